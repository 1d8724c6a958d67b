"""`POST /v1/streaming_query` on the Responses upstream: the service in front of a fake llama-stack 0.7."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pytest_aiohttp import AiohttpServer
from structlog.testing import capture_logs

from fakes.responses_upstream import (
    Drop,
    FakeResponsesUpstream,
    Sleep,
    Status,
    fixture_events,
    fixture_steps,
    sse,
)
from tests.conftest import MakeClient, split_frames

LIGHTSPEED_01 = "/v1/streaming_query?format=lightspeed-0.1"
"""The goldens here are lightspeed-stack 0.1.3's frames (`patternfly` was those bytes until it
became our own dialect): its `end` has the placeholder token counts 0 and 0, whatever the
upstream reported (tests/service/test_usage_everywhere.py checks the counts that are sent)."""
QUERY = {"query": "Say hello."}
LOST = "The connection to the agent was lost before the answer was complete."
END_EMPTY = (
    'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, '
    '"input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
)
MISMATCH = (
    "llama-stack refused this client's version (HTTP 426): the client's major.minor must match "
    "the server's. Client version 0.7.5 is not compatible with server version 0.8.0. "
    "Please update your client."
)


@pytest.fixture
def fake() -> FakeResponsesUpstream:
    return FakeResponsesUpstream()


@pytest.fixture
async def responses_server(
    aiohttp_server: AiohttpServer, fake: FakeResponsesUpstream
) -> TestServer:
    return await aiohttp_server(fake.app())


@pytest.fixture
def responses_client(make_client: MakeClient, responses_server: TestServer) -> Any:
    """The service on the Responses upstream, in front of the fake (1 s heartbeats)."""

    async def make(**overrides: Any) -> TestClient[Any, Any]:
        settings = {
            "llama_stack_base_url": str(responses_server.make_url("/")),
            "llama_stack_api": "responses",
            "heartbeat_interval": 1.0,
            **overrides,
        }
        return await make_client(**settings)

    return make


async def frames_of(client: TestClient[Any, Any], body: dict[str, Any] = QUERY) -> list[str]:
    response = await client.post(LIGHTSPEED_01, json=body)
    assert response.status == 200, await response.text()
    return split_frames(await response.read())


def events_of(frames: list[str]) -> list[str]:
    return [json.loads(frame.removeprefix("data: "))["event"] for frame in frames]


def data_of(frame: str) -> Any:
    return json.loads(frame.removeprefix("data: "))["data"]


def expected(golden: str, conversation_id: str) -> list[str]:
    return split_frames(golden.replace("CONVERSATION", conversation_id).encode())


TEXT = (
    'data: {"event": "start", "data": {"conversation_id": "CONVERSATION"}}\n\n'
    'data: {"event": "token", "data": {"id": 0, "role": "inference", "token": ""}}\n\n'
    'data: {"event": "token", "data": {"id": 1, "role": "inference", "token": "Hello "}}\n\n'
    'data: {"event": "token", "data": {"id": 2, "role": "inference", "token": "from "}}\n\n'
    'data: {"event": "token", "data": {"id": 3, "role": "inference", "token": "the "}}\n\n'
    'data: {"event": "token", "data": {"id": 4, "role": "inference", "token": "fake "}}\n\n'
    'data: {"event": "token", "data": {"id": 5, "role": "inference", "token": "model. "}}\n\n'
    'data: {"event": "token", "data": {"id": 6, "role": "inference", "token": "This "}}\n\n'
    'data: {"event": "token", "data": {"id": 7, "role": "inference", "token": "is "}}\n\n'
    'data: {"event": "token", "data": {"id": 8, "role": "inference", "token": "a "}}\n\n'
    'data: {"event": "token", "data": {"id": 9, "role": "inference", "token": "scripted "}}\n\n'
    'data: {"event": "token", "data": {"id": 10, "role": "inference", "token": "answer."}}\n\n'
    'data: {"event": "turn_complete", "data": {"id": 11, "token": "Hello from the fake model. This is a scripted answer."}}\n\n'
    'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, "input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
)

TOOL = (
    'data: {"event": "start", "data": {"conversation_id": "CONVERSATION"}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 0, "role": "inference", "token": ""}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 1, "role": "inference", "token": "{\\"city\\":"}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 2, "role": "inference", "token": " \\"test\\"}"}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 3, "role": "inference", "token": "get_weather"}}\n\n'
    'data: {"event": "token", "data": {"id": 4, "token": ""}}\n\n'
    'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, "input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
)

MCP = (
    'data: {"event": "start", "data": {"conversation_id": "CONVERSATION"}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 0, "role": "inference", "token": "{\\"city\\":"}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 1, "role": "inference", "token": " \\"test\\"}"}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 2, "role": "inference", "token": "get_weather"}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 2, "role": "tool_execution", "token": ""}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 4, "role": "tool_execution", "token": "Tool:get_weather arguments:{\'city\': \'test\'}"}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 4, "role": "tool_execution", "token": "Tool:get_weather response:{\\"city\\": \\"test\\", \\"temperature_c\\": 21, \\"sky\\": \\"clear\\", \\"source\\": \\"mcp\\"}"}}\n\n'
    'data: {"event": "token", "data": {"id": 6, "role": "inference", "token": ""}}\n\n'
    'data: {"event": "token", "data": {"id": 7, "role": "inference", "token": "The "}}\n\n'
    'data: {"event": "token", "data": {"id": 8, "role": "inference", "token": "tool "}}\n\n'
    'data: {"event": "token", "data": {"id": 9, "role": "inference", "token": "returned: "}}\n\n'
    'data: {"event": "token", "data": {"id": 10, "role": "inference", "token": "{\\"city\\": "}}\n\n'
    'data: {"event": "token", "data": {"id": 11, "role": "inference", "token": "\\"test\\", "}}\n\n'
    'data: {"event": "token", "data": {"id": 12, "role": "inference", "token": "\\"temperature_c\\": "}}\n\n'
    'data: {"event": "token", "data": {"id": 13, "role": "inference", "token": "21, "}}\n\n'
    'data: {"event": "token", "data": {"id": 14, "role": "inference", "token": "\\"sky\\": "}}\n\n'
    'data: {"event": "token", "data": {"id": 15, "role": "inference", "token": "\\"clear\\", "}}\n\n'
    'data: {"event": "token", "data": {"id": 16, "role": "inference", "token": "\\"source\\": "}}\n\n'
    'data: {"event": "token", "data": {"id": 17, "role": "inference", "token": "\\"mcp\\"}"}}\n\n'
    'data: {"event": "turn_complete", "data": {"id": 18, "token": "The tool returned: {\\"city\\": \\"test\\", \\"temperature_c\\": 21, \\"sky\\": \\"clear\\", \\"source\\": \\"mcp\\"}"}}\n\n'
    'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, "input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
)

FILE_SEARCH = (
    'data: {"event": "start", "data": {"conversation_id": "CONVERSATION"}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 0, "role": "inference", "token": "{\\"query\\""}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 1, "role": "inference", "token": ": \\"capit"}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 2, "role": "inference", "token": "al of Fa"}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 3, "role": "inference", "token": "keland\\"}"}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 4, "role": "inference", "token": "file_search"}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 4, "role": "tool_execution", "token": ""}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 6, "role": "tool_execution", "token": "Tool:file_search arguments:{\'queries\': [\'capital of Fakeland\']}"}}\n\n'
    'data: {"event": "tool_call", "data": {"id": 6, "role": "tool_execution", "token": "Tool:file_search response:[TextContentItem(text=\'Fakeland facts. The capital of Fakeland is Mockville. Fakeland exports rubber ducks and test fixtures. Its national bird is the stub-tailed parrot.\', type=\'text\')]"}}\n\n'
    'data: {"event": "token", "data": {"id": 8, "role": "inference", "token": ""}}\n\n'
    'data: {"event": "token", "data": {"id": 9, "role": "inference", "token": "The "}}\n\n'
    'data: {"event": "token", "data": {"id": 10, "role": "inference", "token": "tool "}}\n\n'
    'data: {"event": "token", "data": {"id": 11, "role": "inference", "token": "returned: "}}\n\n'
    'data: {"event": "token", "data": {"id": 12, "role": "inference", "token": "file_search "}}\n\n'
    'data: {"event": "token", "data": {"id": 13, "role": "inference", "token": "tool "}}\n\n'
    'data: {"event": "token", "data": {"id": 14, "role": "inference", "token": "found "}}\n\n'
    'data: {"event": "token", "data": {"id": 15, "role": "inference", "token": "1 "}}\n\n'
    'data: {"event": "token", "data": {"id": 16, "role": "inference", "token": "chunks:\\n"}}\n\n'
    'data: {"event": "token", "data": {"id": 17, "role": "inference", "token": "BEGIN "}}\n\n'
    'data: {"event": "token", "data": {"id": 18, "role": "inference", "token": "of "}}\n\n'
    'data: {"event": "token", "data": {"id": 19, "role": "inference", "token": "file_search "}}\n\n'
    'data: {"event": "token", "data": {"id": 20, "role": "inference", "token": "tool "}}\n\n'
    'data: {"event": "token", "data": {"id": 21, "role": "inference", "token": "results.\\n "}}\n\n'
    'data: {"event": "token", "data": {"id": 22, "role": "inference", "token": "[1] "}}\n\n'
    'data: {"event": "token", "data": {"id": 23, "role": "inference", "token": "document_id: "}}\n\n'
    'data: {"event": "token", "data": {"id": 24, "role": "inference", "token": "file-3fe6f413d0534d3cbf5bb776f785aa28, "}}\n\n'
    'data: {"event": "token", "data": {"id": 25, "role": "inference", "token": "score: "}}\n\n'
    'data: {"event": "token", "data": {"id": 26, "role": "inference", "token": "0.7905694203561394, "}}\n\n'
    'data: {"event": "token", "data": {"id": 27, "role": "inference", "token": "attributes: "}}\n\n'
    'data: {"event": "token", "data": {"id": 28, "role": "inference", "token": "{\'filename\': "}}\n\n'
    'data: {"event": "token", "data": {"id": 29, "role": "inference", "token": "\'fakeland.txt\', "}}\n\n'
    'data: {"event": "token", "data": {"id": 30, "role": "inference", "token": "\'file_i"}}\n\n'
    'data: {"event": "turn_complete", "data": {"id": 31, "token": "The tool returned: file_search tool found 1 chunks:\\nBEGIN of file_search tool results.\\n [1] document_id: file-3fe6f413d0534d3cbf5bb776f785aa28, score: 0.7905694203561394, attributes: {\'filename\': \'fakeland.txt\', \'file_i"}}\n\n'
    'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, "input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
)

SHIELD = (
    'data: {"event": "start", "data": {"conversation_id": "CONVERSATION"}}\n\n'
    'data: {"event": "token", "data": {"id": 0, "role": "shield_call", "token": "Violation: I can\'t answer that. Can I help with something else? (Metadata: {\'flagged_categories\': \'Violent Crimes\', \'violation_type\': \'S1\'})"}}\n\n'
    'data: {"event": "token", "data": {"id": 0, "role": "inference", "token": "I can\'t answer that. Can I help with something else? (flagged for: Violent Crimes) (violation type: S1)"}}\n\n'
    'data: {"event": "turn_complete", "data": {"id": 0, "token": "I can\'t answer that. Can I help with something else? (flagged for: Violent Crimes) (violation type: S1)"}}\n\n'
    'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, "input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
)

FAIL = (
    'data: {"event": "start", "data": {"conversation_id": "CONVERSATION"}}\n\n'
    'data: {"event": "error", "data": {"id": 0, "token": "fake model: scripted failure"}}\n\n'
    'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, "input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
)

FAIL_MID = (
    'data: {"event": "start", "data": {"conversation_id": "CONVERSATION"}}\n\n'
    'data: {"event": "token", "data": {"id": 0, "role": "inference", "token": ""}}\n\n'
    'data: {"event": "token", "data": {"id": 1, "role": "inference", "token": "This "}}\n\n'
    'data: {"event": "token", "data": {"id": 2, "role": "inference", "token": "answer "}}\n\n'
    'data: {"event": "token", "data": {"id": 3, "role": "inference", "token": "will "}}\n\n'
    'data: {"event": "token", "data": {"id": 4, "role": "inference", "token": "fail "}}\n\n'
    'data: {"event": "error", "data": {"id": 5, "token": "An unexpected error occurred while generating the response."}}\n\n'
    'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, "input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
)


async def test_text_turn_streams_lightspeed_frames_byte_for_byte(responses_client, fake):
    fake.steps = fixture_steps("text.sse")
    client = await responses_client()
    response = await client.post(LIGHTSPEED_01, json=QUERY)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    frames = split_frames(await response.read())
    assert frames == expected(TEXT, fake.conversations[0])


async def test_client_tool_call_streams_tool_call_frames_then_awaits_input(responses_client, fake):
    fake.steps = fixture_steps("tool.sse")
    client = await responses_client()
    assert await frames_of(client) == expected(TOOL, fake.conversations[0])


async def test_mcp_call_and_result_stream_as_tool_execution_frames(responses_client, fake):
    fake.steps = fixture_steps("mcp.sse")
    client = await responses_client()
    assert await frames_of(client) == expected(MCP, fake.conversations[0])


async def test_file_search_streams_its_call_and_its_results(responses_client, fake):
    fake.steps = fixture_steps("file_search.sse")
    client = await responses_client()
    assert await frames_of(client) == expected(FILE_SEARCH, fake.conversations[0])


async def test_file_search_results_with_a_url_become_referenced_documents(responses_client, fake):
    events = fixture_events("file_search.sse")
    (done,) = [
        e
        for e in events
        if e["type"] == "response.output_item.done" and e["item"]["type"] == "file_search_call"
    ]
    done["item"]["results"][0]["attributes"].update(
        docs_url="https://docs.example.com/fakeland", title="Fakeland facts"
    )
    fake.steps = [sse(event) for event in events]
    client = await responses_client()
    frames = await frames_of(client)
    assert frames[-1] == (
        'data: {"event": "end", "data": {"referenced_documents": [{"doc_url": '
        '"https://docs.example.com/fakeland", "doc_title": "Fakeland facts"}], '
        '"truncated": null, "input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
    )


async def test_guardrail_refusal_streams_a_shield_violation_and_the_refusal(responses_client, fake):
    fake.steps = fixture_steps("shield.sse")
    client = await responses_client(responses_guardrails="llama-guard")
    assert await frames_of(client) == expected(SHIELD, fake.conversations[0])
    assert fake.requests[0]["guardrails"] == ["llama-guard"]


async def test_response_failed_before_any_output_gives_error_then_end(responses_client, fake):
    fake.steps = fixture_steps("fail.sse")
    client = await responses_client()
    assert await frames_of(client) == expected(FAIL, fake.conversations[0])


async def test_response_failed_mid_answer_gives_error_then_end(responses_client, fake):
    fake.steps = fixture_steps("fail-mid.sse")
    client = await responses_client()
    assert await frames_of(client) == expected(FAIL_MID, fake.conversations[0])


async def test_connection_dropped_mid_stream_gives_error_frame_then_end(responses_client, fake):
    fake.steps = [*fixture_steps("text.sse")[:6], b'data: {"content_index":0,"del', Drop()]
    client = await responses_client()
    frames = await frames_of(client)
    assert events_of(frames) == ["start", "token", "token", "token", "error", "end"]
    assert frames[-2] == (
        f'data: {{"event": "error", "data": {{"id": 3, "token": "{LOST}", '
        f'"response": "The answer was cut short", "cause": "{LOST}"}}}}\n\n'
    )
    assert frames[-1] == END_EMPTY


async def test_a_stream_ending_before_response_completed_is_an_upstream_error(
    responses_client, fake
):
    fake.steps = fixture_steps("text.sse")[:-1]  # every event but `response.completed`
    client = await responses_client()
    with capture_logs() as logs:
        frames = await frames_of(client)
    assert events_of(frames) == ["start", *["token"] * 11, "error", "end"]
    assert frames[-2] == (
        'data: {"event": "error", "data": {"id": 11, "token": '
        '"The agent\'s stream ended before the answer was complete.", '
        '"response": "The answer was cut short", '
        '"cause": "The agent\'s stream ended before the answer was complete."}}\n\n'
    )
    assert frames[-1] == END_EMPTY
    assert [e["outcome"] for e in logs if e["event"] == "stream end"] == ["upstream_error"]


async def test_one_event_over_16_mib_gives_error_then_end_without_waiting(responses_client, fake):
    endless = b"data: " + b"x" * (17 * 1024 * 1024)  # one line, never ended
    fake.steps = [*fixture_steps("text.sse")[:5], endless, Sleep(60)]
    client = await responses_client(stream_timeout=30)
    started = time.monotonic()
    frames = await frames_of(client)
    assert time.monotonic() - started < 10, "the cap ends the stream, not the stream timeout"
    assert events_of(frames) == ["start", "token", "token", "error", "end"]
    assert frames[-2] == (
        'data: {"event": "error", "data": {"id": 2, "token": '
        '"The agent sent an event larger than the 16 MiB this service accepts.", '
        '"response": "The agent failed", '
        '"cause": "The agent sent an event larger than the 16 MiB this service accepts."}}\n\n'
    )
    assert frames[-1] == END_EMPTY
    await asyncio.wait_for(fake.turn_ended.wait(), 5)
    assert fake.end_reason == "cancelled"


async def test_error_frame_mid_stream_gives_its_message_then_end(responses_client, fake):
    boom = sse({"error": {"message": "Internal server error: An unexpected error occurred."}})
    fake.steps = [*fixture_steps("text.sse")[:5], boom]
    client = await responses_client()
    frames = await frames_of(client)
    assert events_of(frames) == ["start", "token", "token", "error", "end"]
    assert frames[-2] == (
        'data: {"event": "error", "data": {"id": 2, "token": '
        '"Internal server error: An unexpected error occurred."}}\n\n'
    )


async def test_data_that_is_not_json_mid_stream_is_an_upstream_error_then_end(
    responses_client, fake
):
    fake.steps = [*fixture_steps("text.sse")[:5], b"data: {not json\n\n", Sleep(60)]
    client = await responses_client()
    with capture_logs() as logs:
        frames = await frames_of(client)
    assert events_of(frames) == ["start", "token", "token", "error", "end"]
    assert frames[-2] == (
        'data: {"event": "error", "data": {"id": 2, "token": '
        '"The agent sent a stream event this service cannot read."}}\n\n'
    )
    assert [e["outcome"] for e in logs if e["event"] == "stream end"] == ["upstream_error"]
    await asyncio.wait_for(fake.turn_ended.wait(), 5)
    assert fake.end_reason == "cancelled"


async def test_the_events_of_one_upstream_read_reach_the_client_in_one_write(
    responses_client, fake, monkeypatch
):
    writes: list[bytes] = []
    write = web.StreamResponse.write

    async def recorded(self: web.StreamResponse, data: bytes) -> None:
        writes.append(bytes(data))
        await write(self, data)

    monkeypatch.setattr(web.StreamResponse, "write", recorded)
    fake.steps = [b"".join(step for step in fixture_steps("text.sse") if isinstance(step, bytes))]
    client = await responses_client()
    frames = await frames_of(client)
    tokens = [w for w in writes if b'"event": "token"' in w]
    assert len(tokens) == 1
    assert tokens[0].count(b'"event": "token"') == events_of(frames).count("token") > 5


async def test_request_carries_query_default_model_instructions_and_conversation(
    responses_client, fake
):
    fake.steps = fixture_steps("text.sse")
    client = await responses_client()
    await frames_of(client)
    assert fake.requests == [
        {
            "input": "Say hello.",
            "model": "openai/fake-model",
            "conversation": fake.conversations[0],
            "instructions": "You are a helpful assistant.",
            "stream": True,
        }
    ]
    assert fake.client_versions == {"0.7.5"}


async def test_request_maps_system_prompt_model_provider_and_attachments(responses_client, fake):
    fake.steps = fixture_steps("text.sse")
    client = await responses_client()
    body = {
        "query": "Why does it crash?",
        "system_prompt": "Be brief.",
        "model": "fake-model",
        "provider": "openai",
        "attachments": [
            {"attachment_type": "log", "content_type": "text/plain", "content": "OOMKilled"}
        ],
    }
    await frames_of(client, body)
    request = fake.requests[0]
    assert request["model"] == "openai/fake-model"
    assert request["instructions"] == "Be brief."
    assert request["input"] == [
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Why does it crash?"},
                {"type": "input_text", "text": "[attachment: log, text/plain]\nOOMKilled"},
            ],
        }
    ]
    assert fake.model_lists == 0


async def test_configured_tools_and_guardrails_are_passed_on(responses_client, fake):
    fake.steps = fixture_steps("text.sse")
    mcp = {
        "server_label": "weather",
        "server_url": "http://127.0.0.1:1/mcp",
        "headers": {"X-Tenant": "a"},
        "allowed_tools": ["get_weather"],
    }
    client = await responses_client(
        responses_vector_store_ids="vs_1, vs_2",
        responses_mcp_servers=[mcp],
        responses_guardrails="llama-guard",
    )
    await frames_of(client)
    request = fake.requests[0]
    assert request["tools"] == [
        {"type": "file_search", "vector_store_ids": ["vs_1", "vs_2"]},
        {
            "type": "mcp",
            "server_label": "weather",
            "server_url": "http://127.0.0.1:1/mcp",
            "require_approval": "never",
            "headers": {"X-Tenant": "a"},
            "allowed_tools": ["get_weather"],
        },
    ]
    assert request["guardrails"] == ["llama-guard"]


async def test_each_mcp_servers_require_approval_is_passed_on(responses_client, fake):
    fake.steps = fixture_steps("text.sse")
    servers: list[dict[str, Any]] = [
        {"server_label": "a", "server_url": "http://127.0.0.1:1/mcp", "require_approval": "always"},
        {
            "server_label": "b",
            "server_url": "http://127.0.0.1:2/mcp",
            "require_approval": {"always": ["delete_pod"], "never": ["get_pod"]},
        },
        {
            "server_label": "c",
            "server_url": "http://127.0.0.1:3/mcp",
            "require_approval": {"always": ["scale"]},
        },
    ]
    client = await responses_client(responses_mcp_servers=servers)
    await frames_of(client)
    assert fake.requests[0]["tools"] == [{"type": "mcp", **server} for server in servers]


async def test_a_requests_allowed_vector_stores_replace_the_configured_ones(responses_client, fake):
    fake.steps = fixture_steps("text.sse")
    client = await responses_client(
        responses_vector_store_ids="vs_1", allowed_vector_store_ids="vs_2,vs_3"
    )
    await frames_of(client, {**QUERY, "vector_store_ids": ["vs_3", "vs_2"]})
    assert fake.requests[0]["tools"] == [
        {"type": "file_search", "vector_store_ids": ["vs_3", "vs_2"]}
    ]


async def test_no_tools_drops_the_configured_tools_but_keeps_guardrails(responses_client, fake):
    fake.steps = fixture_steps("text.sse")
    client = await responses_client(
        responses_vector_store_ids="vs_1", responses_guardrails="llama-guard"
    )
    await frames_of(client, {"query": "Hi", "no_tools": True})
    assert "tools" not in fake.requests[0]
    assert fake.requests[0]["guardrails"] == ["llama-guard"]


async def test_tool_settings_are_read_from_the_environment(responses_client, fake, monkeypatch):
    server = {"server_label": "docs", "server_url": "http://127.0.0.1:2/mcp"}
    monkeypatch.setenv("RESPONSES_MCP_SERVERS", json.dumps([server]))
    monkeypatch.setenv("RESPONSES_VECTOR_STORE_IDS", "vs_a,vs_b")
    fake.steps = fixture_steps("text.sse")
    client = await responses_client()
    await frames_of(client)
    assert fake.requests[0]["tools"] == [
        {"type": "file_search", "vector_store_ids": ["vs_a", "vs_b"]},
        {**server, "type": "mcp", "require_approval": "never"},
    ]


async def test_the_first_llm_listed_is_the_default_model_and_is_asked_for_once(
    responses_client, fake
):
    fake.models = [
        {"id": "all-minilm", "model_type": "embedding"},
        {"id": "vllm/first", "model_type": "llm"},
        {"id": "openai/second", "model_type": "llm"},
    ]
    fake.steps = fixture_steps("text.sse")
    client = await responses_client()
    await frames_of(client)
    await frames_of(client)
    assert [r["model"] for r in fake.requests] == ["vllm/first", "vllm/first"]
    assert fake.model_lists == 1


async def test_default_model_setting_needs_no_model_list(responses_client, fake):
    fake.steps = fixture_steps("text.sse")
    client = await responses_client(default_model="openai/configured")
    await frames_of(client)
    assert fake.requests[0]["model"] == "openai/configured"
    assert fake.model_lists == 0


async def test_no_llm_listed_is_503_and_not_ready(responses_client, fake):
    fake.models = [{"id": "all-minilm", "model_type": "embedding"}]
    client = await responses_client()
    response = await client.post(LIGHTSPEED_01, json=QUERY)
    assert response.status == 503
    assert (await response.json())["detail"]["cause"] == "llama-stack lists no LLM model"
    readiness = await client.get("/readiness")
    assert (readiness.status, await readiness.json()) == (
        503,
        {"ready": False, "reason": "llama-stack lists no LLM model"},
    )


async def test_conversation_id_from_start_continues_the_conversation(responses_client, fake):
    fake.steps = fixture_steps("text.sse")
    client = await responses_client()
    first = await frames_of(client)
    conversation_id = data_of(first[0])["conversation_id"]
    assert conversation_id.startswith("conv_")
    second = await frames_of(client, {"query": "And then?", "conversation_id": conversation_id})
    assert second[0] == first[0]
    assert fake.conversations == [conversation_id]
    assert [r["conversation"] for r in fake.requests] == [conversation_id] * 2
    assert fake.requests[1]["input"] == "And then?"


async def test_unknown_conversation_id_starts_a_new_conversation(responses_client, fake):
    fake.steps = fixture_steps("text.sse")
    client = await responses_client()
    gone = "conv_" + "0" * 48
    frames = await frames_of(client, {"query": "Hi", "conversation_id": gone})
    (created,) = fake.conversations
    assert data_of(frames[0]) == {"conversation_id": created}
    assert [r["conversation"] for r in fake.requests] == [gone, created]
    assert events_of(frames)[-2:] == ["turn_complete", "end"]


async def test_conversation_id_in_another_format_starts_a_new_conversation(responses_client, fake):
    fake.steps = fixture_steps("text.sse")
    client = await responses_client()
    body = {"query": "Hi", "conversation_id": "53f88110-dfb1-4bc7-9821-df7adee0a00b"}
    frames = await frames_of(client, body)
    (created,) = fake.conversations
    assert data_of(frames[0]) == {"conversation_id": created}
    assert [r["conversation"] for r in fake.requests] == [created]


async def test_a_first_event_over_16_mib_is_503_json_without_waiting(responses_client, fake):
    fake.steps = [b"data: " + b"x" * (17 * 1024 * 1024), Sleep(60)]
    client = await responses_client(stream_timeout=30)
    started = time.monotonic()
    response = await client.post(LIGHTSPEED_01, json=QUERY)
    assert response.status == 503
    assert time.monotonic() - started < 10
    assert await response.json() == {
        "detail": {
            "response": "Unable to connect to Llama Stack",
            "cause": "The agent sent an event larger than the 16 MiB this service accepts.",
        }
    }


async def test_upstream_error_status_before_the_stream_is_503_json(responses_client, fake):
    fake.steps = [Status(500, '{"error": {"message": "boom"}}')]
    client = await responses_client()
    response = await client.post(LIGHTSPEED_01, json=QUERY)
    assert response.status == 503
    assert await response.json() == {
        "detail": {
            "response": "Unable to connect to Llama Stack",
            "cause": "llama-stack answered HTTP 500: boom",
        }
    }


async def test_error_streamed_before_the_first_event_is_503_json(responses_client, fake):
    fake.steps = [sse({"error": {"message": "Model 'nope' not found.", "code": "404"}})]
    client = await responses_client()
    response = await client.post(LIGHTSPEED_01, json=QUERY)
    assert response.status == 503
    body = await response.json()
    assert body["detail"]["cause"] == "llama-stack refused the turn: Model 'nope' not found."


async def test_refused_upstream_connection_is_503_json(make_client, unused_tcp_port):
    client = await make_client(
        llama_stack_base_url=f"http://127.0.0.1:{unused_tcp_port}", llama_stack_api="responses"
    )
    response = await client.post(LIGHTSPEED_01, json=QUERY)
    assert response.status == 503
    body = await response.json()
    assert body["detail"]["cause"].startswith(
        "llama-stack is unreachable: ConnectionRefusedError: "
    )
    readiness = await client.get("/readiness")
    assert readiness.status == 503
    assert (await readiness.json())["reason"].startswith("llama-stack is unreachable: ")


async def test_version_mismatch_is_explained_in_readiness_log_and_503(responses_client, fake):
    fake.server_version = "0.8.0"
    client = await responses_client()
    with capture_logs() as logs:
        readiness = await client.get("/readiness")
    assert (readiness.status, await readiness.json()) == (
        503,
        {"ready": False, "reason": MISMATCH},
    )
    assert {"event": "upstream not ready", "reason": MISMATCH, "log_level": "warning"} in logs
    response = await client.post(LIGHTSPEED_01, json=QUERY)
    assert response.status == 503
    assert (await response.json())["detail"]["cause"] == MISMATCH


async def test_readiness_lists_models_and_caches_the_answer(responses_client, fake):
    client = await responses_client(readiness_cache_seconds=60)
    assert (await client.get("/readiness")).status == 200
    fake.server_version = "0.8.0"
    assert (await client.get("/readiness")).status == 200
    assert fake.model_lists == 1


async def test_readiness_asks_again_once_the_cache_expires(responses_client, fake):
    client = await responses_client(readiness_cache_seconds=0)
    assert (await client.get("/readiness")).status == 200
    fake.server_version = "0.8.0"
    assert (await client.get("/readiness")).status == 503


async def test_heartbeats_keep_flowing_while_the_upstream_is_silent(responses_client, fake):
    steps = fixture_steps("text.sse")
    fake.steps = [*steps[:5], Sleep(2.5), *steps[5:]]
    client = await responses_client(heartbeat_interval=1.0)
    frames = await frames_of(client)
    names = events_of(frames)
    assert names.count("heartbeat") >= 2
    assert names[-2:] == ["turn_complete", "end"]
    assert frames[names.index("heartbeat")] == (
        'data: {"event": "heartbeat", "data": {"id": 2, "token": "heartbeat"}}\n\n'
    )


async def test_client_disconnect_during_silence_cancels_the_upstream_response(
    responses_client, fake
):
    interval = 1.0
    fake.steps = [*fixture_steps("text.sse")[:5], Sleep(60)]
    client = await responses_client(heartbeat_interval=interval)
    response = await client.post(LIGHTSPEED_01, json=QUERY)
    await response.content.readuntil(b"\n\n")
    await asyncio.wait_for(fake.turn_started.wait(), 5)
    await asyncio.sleep(0.2)
    response.close()
    closed_at = time.monotonic()
    await asyncio.wait_for(fake.turn_ended.wait(), 5)
    assert fake.end_reason == "cancelled"
    assert fake.ended_at is not None
    assert fake.ended_at - closed_at < interval + 0.3


async def test_the_reasoning_effort_setting_asks_the_model_to_reason(responses_client, fake):
    fake.steps = fixture_steps("text.sse")
    await frames_of(await responses_client())
    await frames_of(await responses_client(responses_reasoning_effort="low"))
    assert "reasoning" not in fake.requests[0]
    assert fake.requests[1]["reasoning"] == {"effort": "low"}
