"""The Responses upstream against llama-stack 0.7 and OGX 1.x: version, guardrails, headers, readiness."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from llama_stack_client import __version__ as LLAMA_STACK_CLIENT
from pytest_aiohttp import AiohttpServer

from fakes.responses_upstream import (
    FakeResponsesUpstream,
    fixture_events,
    fixture_steps,
    sse,
)
from tests.conftest import MakeClient, split_frames
from tests.service.test_streaming_query_responses import LIGHTSPEED_01, TEXT, expected

QUERY = {"query": "Say hello."}
SHIELDS_ON_OGX = (
    "RESPONSES_GUARDRAILS names shields (llama-guard), but OGX 1.5.0 has no shields: its "
    "guardrails are one switch that moderates through the moderation_endpoint of its responses "
    "provider. Unset RESPONSES_GUARDRAILS and set RESPONSES_MODERATION=true."
)
MODERATION_ON_LLAMA_STACK = (
    "RESPONSES_MODERATION needs OGX 1.0 or later, but the server is llama-stack 0.7.3, whose "
    "guardrails are named shields: list them in RESPONSES_GUARDRAILS instead."
)
NO_MODERATION_ENDPOINT = (
    "RESPONSES_MODERATION is on, but OGX 1.5.0's responses provider has no moderation_endpoint, "
    "so it refuses every turn that asks for guardrails: set moderation_endpoint in its run "
    "config, or set RESPONSES_MODERATION=false."
)


@pytest.fixture
def fake() -> FakeResponsesUpstream:
    return FakeResponsesUpstream(steps=fixture_steps("text.sse"))


@pytest.fixture
async def upstream_server(aiohttp_server: AiohttpServer, fake: FakeResponsesUpstream) -> TestServer:
    return await aiohttp_server(fake.app())


@pytest.fixture
def client_for(make_client: MakeClient, upstream_server: TestServer) -> Any:
    """The service on the Responses upstream, in front of the fake (llama-stack or OGX)."""

    async def make(**overrides: Any) -> TestClient[Any, Any]:
        return await make_client(
            llama_stack_base_url=str(upstream_server.make_url("/")),
            llama_stack_api="responses",
            **overrides,
        )

    return make


async def stream_text(client: TestClient[Any, Any]) -> list[str]:
    response = await client.post(LIGHTSPEED_01, json=QUERY)
    assert response.status == 200, await response.text()
    return split_frames(await response.read())


async def not_ready_everywhere(client: TestClient[Any, Any], reason: str) -> None:
    """Readiness says why, and a turn is a 503 with the same plain words."""
    readiness = await client.get("/readiness")
    assert (readiness.status, await readiness.json()) == (503, {"ready": False, "reason": reason})
    response = await client.post("/v1/streaming_query", json=QUERY)
    assert (response.status, await response.json()) == (
        503,
        {"detail": {"response": "Unable to connect to Llama Stack", "cause": reason}},
    )


@pytest.mark.parametrize("version", ["1.5.0", "1.2.5"])
async def test_ogx_moderation_sends_guardrails_true_and_the_ogx_version_header(
    client_for, fake, version
):
    fake.server_version = version
    client = await client_for(responses_moderation=True)
    readiness = await client.get("/readiness")
    assert (readiness.status, await readiness.json()) == (200, {"ready": True})
    frames = await stream_text(client)
    assert frames == expected(TEXT, fake.conversations[0])
    assert fake.requests[0]["guardrails"] is True
    assert fake.turn_client_versions == [
        {"x-llamastack-client-version": LLAMA_STACK_CLIENT, "x-ogx-client-version": version}
    ]


async def test_ogx_without_moderation_sends_no_guardrails_field(client_for, fake):
    fake.server_version = "1.5.0"
    client = await client_for()
    frames = await stream_text(client)
    assert frames == expected(TEXT, fake.conversations[0])
    assert "guardrails" not in fake.requests[0]


async def test_shields_on_ogx_fail_readiness_and_turns_in_plain_words(client_for, fake):
    fake.server_version = "1.5.0"
    client = await client_for(responses_guardrails="llama-guard")
    await not_ready_everywhere(client, SHIELDS_ON_OGX)
    assert fake.requests == []
    assert fake.conversations == []


async def test_moderation_on_llama_stack_fails_readiness_and_turns_in_plain_words(client_for, fake):
    client = await client_for(responses_moderation=True)
    await not_ready_everywhere(client, MODERATION_ON_LLAMA_STACK)
    assert fake.requests == []


async def test_moderation_on_ogx_without_a_moderation_endpoint_is_not_ready(client_for, fake):
    fake.server_version = "1.5.0"
    fake.moderation_endpoint = None
    client = await client_for(responses_moderation=True)
    readiness = await client.get("/readiness")
    assert (readiness.status, await readiness.json()) == (
        503,
        {"ready": False, "reason": NO_MODERATION_ENDPOINT},
    )


async def test_llama_stack_gets_its_shields_list_and_no_ogx_header(client_for, fake):
    client = await client_for(responses_guardrails="llama-guard, code-scanner")
    assert (await client.get("/readiness")).status == 200
    await stream_text(client)
    assert fake.requests[0]["guardrails"] == ["llama-guard", "code-scanner"]
    assert fake.turn_client_versions == [{"x-llamastack-client-version": LLAMA_STACK_CLIENT}]


async def test_the_version_is_asked_once_for_turns_and_again_by_each_readiness_ask(
    client_for, fake
):
    fake.server_version = "1.5.0"
    client = await client_for(readiness_cache_seconds=0)
    await stream_text(client)
    await stream_text(client)
    assert fake.version_asks == 1
    assert (await client.get("/readiness")).status == 200
    assert (await client.get("/readiness")).status == 200
    assert fake.version_asks == 3


async def test_an_ogx_upgraded_behind_the_service_refuses_once_then_is_asked_again(
    client_for, fake
):
    fake.server_version = "1.2.5"
    client = await client_for(readiness_cache_seconds=60)
    await stream_text(client)
    fake.server_version = "1.5.0"
    refused = await client.post("/v1/streaming_query", json=QUERY)
    assert refused.status == 503
    assert (await refused.json())["detail"]["cause"] == (
        "llama-stack refused this client's version (HTTP 426): the client's major.minor must "
        "match the server's. Client version 1.2.5 is not compatible with server version 1.5.0. "
        "Please update your client."
    )
    await stream_text(client)
    assert [h["x-ogx-client-version"] for h in fake.turn_client_versions] == ["1.2.5", "1.5.0"]


async def test_an_ogx_file_citation_names_the_referenced_document_in_the_end_frame(
    client_for, fake
):
    """OGX 1.5 gives results the document's UUID as file_id/filename; the citation, its name."""
    fake.server_version = "1.5.0"
    uuid = "d4f4ec3e-c861-4d37-9254-39490aa30ea4"
    events = fixture_events("file_search.sse")
    for event in events:
        item = event.get("item", {})
        if event["type"] == "response.output_item.done" and item["type"] == "file_search_call":
            (result,) = item["results"]
            result.update(file_id=uuid, filename=uuid)
            result["attributes"] = {"document_id": uuid, "docs_url": "https://d/fakeland"}
        if event["type"] == "response.completed":
            (message,) = [i for i in event["response"]["output"] if i["type"] == "message"]
            message["content"][0]["annotations"] = [
                {"type": "file_citation", "file_id": uuid, "filename": "fakeland.txt", "index": 3}
            ]
    fake.steps = [sse(event) for event in events]
    client = await client_for()
    frames = await stream_text(client)
    assert frames[-1] == (
        'data: {"event": "end", "data": {"referenced_documents": [{"doc_url": '
        '"https://d/fakeland", "doc_title": "fakeland.txt"}], "truncated": null, '
        '"input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
    )
