"""lightspeed-stack's other routes: `GET /v1/models`, `POST /v1/query`, `/v1/conversations/{id}`."""

from __future__ import annotations

import json
import re
from typing import Any

import openai
import pytest

from fakes.agents_upstream import Drop, FakeAgentsUpstream, Sleep, fixture_steps
from fakes.responses_upstream import FakeResponsesUpstream
from service.upstream import LOST_UPSTREAM
from service.upstream.demo import ANSWER
from tests.conftest import MakeClient
from tests.service import test_conversation_owners as owners
from tests.service.redis_server import free_port
from tests.service.test_conversation_owners import (
    ALICE,
    BOB,
    NOT_FOUND,
    UNKNOWN,
    Restart,
    bearer,
    started,
)

# The owner tests' fixtures: the fake Responses server, and the service on each upstream kind.
fake_responses = owners.fake_responses
responses_server = owners.responses_server
kind = owners.kind
service = owners.service

DEMO_MODELS = {
    "object": "list",
    "data": [
        {
            "id": "demo/demo-agent",
            "object": "model",
            "created": 0,
            "owned_by": "agent-stream-gateway",
        }
    ],
    "models": [
        {
            "identifier": "demo/demo-agent",
            "metadata": {},
            "api_model_type": "llm",
            "provider_id": "demo",
            "type": "model",
            "provider_resource_id": "demo-agent",
            "model_type": "llm",
        }
    ],
}
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
UNAVAILABLE = "Unable to connect to Llama Stack"


def _catalog(identifier: str, model_type: str, provider: str) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "metadata": {},
        "api_model_type": model_type,
        "provider_id": provider,
        "type": "model",
        "provider_resource_id": "",
        "model_type": model_type,
    }


def _down() -> dict[str, Any]:
    """Settings of a Responses upstream that nothing listens on."""
    return {"llama_stack_base_url": f"http://127.0.0.1:{free_port()}"}


async def _unavailable(response: Any) -> None:
    assert response.status == 503
    detail = (await response.json())["detail"]
    assert detail["response"] == UNAVAILABLE
    assert detail["cause"].startswith("llama-stack is unreachable: ")
    assert "127.0.0.1" not in detail["cause"]


# GET /v1/models


async def test_the_demo_agent_lists_its_model_in_both_shapes(make_client: MakeClient):
    client = await make_client()
    response = await client.get("/v1/models")
    assert response.status == 200
    assert await response.json() == DEMO_MODELS


async def test_a_responses_upstreams_models_in_both_shapes(make_client, responses_server):
    client = await make_client(llama_stack_base_url=str(responses_server.make_url("/")))
    assert await (await client.get("/v1/models")).json() == {
        "object": "list",
        "data": [
            {
                "id": "all-minilm",
                "object": "model",
                "created": 1795515817,
                "owned_by": "llama_stack",
            },
            {
                "id": "openai/fake-model",
                "object": "model",
                "created": 1795515817,
                "owned_by": "llama_stack",
            },
        ],
        "models": [
            _catalog("all-minilm", "embedding", "all-minilm"),
            _catalog("openai/fake-model", "llm", "openai"),
        ],
    }


async def test_an_agents_upstreams_models_in_both_shapes(agents_client):
    client = await agents_client()
    assert await (await client.get("/v1/models")).json() == {
        "object": "list",
        "data": [
            {"id": "all-minilm", "object": "model", "created": 0, "owned_by": "llama_stack"},
            {"id": "vllm/fake-model", "object": "model", "created": 0, "owned_by": "llama_stack"},
        ],
        "models": [
            _catalog("all-minilm", "embedding", ""),
            _catalog("vllm/fake-model", "llm", ""),
        ],
    }


async def test_the_openai_sdk_lists_the_models(make_client, responses_server):
    client = await make_client(llama_stack_base_url=str(responses_server.make_url("/")))
    sdk = openai.AsyncOpenAI(base_url=str(client.make_url("/v1")), api_key="unused")
    try:
        page = await sdk.models.list()
    finally:
        await sdk.close()
    assert [(m.id, m.object, m.created, m.owned_by) for m in page.data] == [
        ("all-minilm", "model", 1795515817, "llama_stack"),
        ("openai/fake-model", "model", 1795515817, "llama_stack"),
    ]


def reference_ui_picker(body: dict[str, Any]) -> tuple[list[str], str | None, str | None]:
    """lightspeed-reference-ui's reading (services/api.ts fetchModels, hooks/useChatbot.ts).

    `data.models || []`; the picker offers each model whose `api_model_type` is 'llm' by its
    `identifier`; the first such model is selected, and its `provider_id` is the provider sent.
    """
    models = body.get("models") or []
    llms = [model for model in models if model.get("api_model_type") == "llm"]
    first = llms[0] if llms else None
    return (
        [model["identifier"] for model in llms],
        first["identifier"] if first else None,
        first["provider_id"] if first else None,
    )


async def test_the_reference_ui_model_picker_offers_the_llms(make_client, responses_server):
    client = await make_client(llama_stack_base_url=str(responses_server.make_url("/")))
    body = json.loads(await (await client.get("/v1/models")).read())
    assert reference_ui_picker(body) == (["openai/fake-model"], "openai/fake-model", "openai")
    demo = await make_client()
    body = json.loads(await (await demo.get("/v1/models")).read())
    assert reference_ui_picker(body) == (["demo/demo-agent"], "demo/demo-agent", "demo")


async def test_models_answer_503_when_the_upstream_is_down(make_client):
    client = await make_client(**_down())
    await _unavailable(await client.get("/v1/models"))


# POST /v1/query


async def test_the_demo_turn_as_a_query_response(make_client):
    client = await make_client()
    response = await client.post("/v1/query", json={"query": "What is it?"})
    assert response.status == 200
    body = await response.json()
    search = (
        "knowledge_search tool found 2 chunks:\nBEGIN of knowledge_search tool results.\n "
        "Result 1\nContent: What agent-stream-gateway does.\nMetadata: {'docs_url': "
        "'https://docs.example.com/agent-stream-gateway/overview', 'title': 'What "
        "agent-stream-gateway does', 'document_id': 'demo-doc-1'}\n Result 2\nContent: Stream "
        "formats.\nMetadata: {'docs_url': 'https://docs.example.com/agent-stream-gateway/formats"
        "', 'title': 'Stream formats', 'document_id': 'demo-doc-2'}\n END of knowledge_search "
        "tool results.\n"
    )
    assert body == {
        "conversation_id": body["conversation_id"],
        "response": ANSWER,
        "rag_chunks": [],
        "referenced_documents": [
            {
                "doc_url": "https://docs.example.com/agent-stream-gateway/overview",
                "doc_title": "What agent-stream-gateway does",
                "source": None,
                "document_id": "demo-doc-1",
            },
            {
                "doc_url": "https://docs.example.com/agent-stream-gateway/formats",
                "doc_title": "Stream formats",
                "source": None,
                "document_id": "demo-doc-2",
            },
        ],
        "truncated": False,
        "context_status": "full",
        "input_tokens": 0,
        "output_tokens": 0,
        "available_quotas": {},
        "tool_calls": [
            {
                "id": "demo-call-1",
                "name": "knowledge_search",
                "args": {"query": "What is it?"},
                "type": "tool_call",
            },
            {
                "id": "demo-call-2",
                "name": "get_gateway_status",
                "args": {"replicas": 3},
                "type": "tool_call",
            },
        ],
        "tool_results": [
            {
                "id": "demo-call-1",
                "status": "success",
                "content": search,
                "type": "tool_result",
                "round": 1,
            },
            {
                "id": "demo-call-2",
                "status": "success",
                "content": '{"replicas_ready": 3, "heartbeat_interval_s": 5}',
                "type": "tool_result",
                "round": 2,
            },
        ],
    }
    assert re.fullmatch(r"[0-9a-f-]{36}", body["conversation_id"])


async def test_a_responses_turn_as_a_query_response(make_client, responses_server, fake_responses):
    client = await make_client(llama_stack_base_url=str(responses_server.make_url("/")))
    body = await (await client.post("/v1/query", json={"query": "Say hello."})).json()
    completed = _completed(fake_responses)
    text = "".join(
        part["text"]
        for item in completed["output"]
        if item["type"] == "message"
        for part in item["content"]
    )
    assert text == "Hello from the fake model. This is a scripted answer."
    assert body == {
        "conversation_id": fake_responses.conversations[0],
        "response": text,
        "rag_chunks": [],
        "referenced_documents": [],
        "truncated": False,
        "context_status": "full",
        "input_tokens": completed["usage"]["input_tokens"],
        "output_tokens": completed["usage"]["output_tokens"],
        "available_quotas": {},
        "tool_calls": [],
        "tool_results": [],
    }


def _completed(fake: FakeResponsesUpstream) -> dict[str, Any]:
    """The response the fixture's `response.completed` reports."""
    for step in fake.steps:
        if isinstance(step, bytes) and b"response.completed" in step:
            data = step.decode().split("data: ", 1)[1]
            return dict(json.loads(data)["response"])
    raise AssertionError("the fixture has no response.completed")


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        ({}, "query: Field required"),
        ({"query": "  "}, "query: String should match pattern '\\S'"),
        ({"query": "hi", "shout": True}, "shout: Extra inputs are not permitted"),
        ({"query": 3}, "query: Input should be a valid string"),
    ],
)
async def test_bad_query_bodies_get_422(make_client, body, cause):
    client = await make_client()
    response = await client.post("/v1/query", json=body)
    assert response.status == 422
    assert await response.json() == {"detail": {"response": "Invalid request", "cause": cause}}


async def test_a_query_answers_503_when_the_upstream_is_down(make_client):
    client = await make_client(**_down())
    await _unavailable(await client.post("/v1/query", json={"query": "hi"}))


async def test_a_turn_that_breaks_after_it_started_is_502_in_the_contracts_shape(
    agents_client, fake_agents
):
    fake_agents.steps = [*fixture_steps("text.sse")[:4], b'data: {"event": {"pay', Drop()]
    client = await agents_client()
    response = await client.post("/v1/query", json={"query": "hi"})
    assert response.status == 502
    assert await response.json() == {
        "detail": {"response": "The agent turn failed", "cause": LOST_UPSTREAM}
    }


async def test_a_query_counts_against_the_concurrent_stream_limit(agents_client, fake_agents):
    fake_agents.steps = [*fixture_steps("text.sse")[:2], Sleep(30)]
    client = await agents_client(max_concurrent_streams=1)
    first = await client.post("/v1/streaming_query", json={"query": "hi"})
    await first.content.readuntil(b"\n\n")
    second = await client.post("/v1/query", json={"query": "hi"})
    assert second.status == 429
    assert second.headers["Retry-After"] == "1"
    first.close()


async def test_a_query_continues_only_the_callers_own_conversation(service: Restart, kind):
    client = await service()
    mine = await started(client, ALICE)
    own = await client.post(
        "/v1/query", json={"query": "And?", "conversation_id": mine}, headers=bearer(ALICE)
    )
    assert own.status == 200
    assert (await own.json())["conversation_id"] == mine
    for conversation_id in (mine, UNKNOWN[kind]):
        refused = await client.post(
            "/v1/query",
            json={"query": "And?", "conversation_id": conversation_id},
            headers=bearer(BOB),
        )
        assert refused.status == 404
        assert await refused.read() == NOT_FOUND


# GET and DELETE /v1/conversations/{id}


async def test_the_demo_agent_answers_its_conversation_history(make_client):
    client = await make_client()
    first = await (await client.post("/v1/query", json={"query": "One?"})).json()
    conversation_id = first["conversation_id"]
    await client.post("/v1/query", json={"query": "Two?", "conversation_id": conversation_id})
    body = await (await client.get(f"/v1/conversations/{conversation_id}")).json()
    turns = body["chat_history"]
    for turn in turns:
        assert STAMP.fullmatch(turn.pop("started_at")) and STAMP.fullmatch(turn.pop("completed_at"))
    assert body == {
        "conversation_id": conversation_id,
        "chat_history": [
            history_turn(question, ANSWER, provider="demo", model="demo-agent")
            for question in ("One?", "Two?")
        ],
    }


def history_turn(question: str, answer: str, **more: str) -> dict[str, Any]:
    """One `chat_history` entry: the question, the answer, no tools, then `more` fields."""
    return {
        "messages": [
            {"content": question, "type": "user", "referenced_documents": None},
            {"content": answer, "type": "assistant", "referenced_documents": None},
        ],
        "tool_calls": [],
        "tool_results": [],
        **more,
    }


def _message(item_id: str, role: str, text: str) -> dict[str, Any]:
    part = "input_text" if role == "user" else "output_text"
    return {
        "id": item_id,
        "type": "message",
        "role": role,
        "status": "completed",
        "content": [{"type": part, "text": text}],
    }


async def test_a_responses_conversation_history_comes_from_its_items(
    make_client, responses_server, fake_responses
):
    fake_responses.created_at = 1767225600  # 2026-01-01T00:00:00Z
    client = await make_client(llama_stack_base_url=str(responses_server.make_url("/")))
    conversation_id = await started(client, None)
    fake_responses.items[conversation_id] = [
        {"id": "sys", "type": "message", "role": "system", "content": "Be brief."},
        _message("m1", "user", "Say hello."),
        {"id": "fs1", "type": "file_search_call", "status": "completed", "queries": ["hello"]},
        _message("m2", "assistant", "Hello!"),
        _message("m3", "user", "Again."),
        _message("m4", "assistant", "Hello again!"),
    ]
    body = await (await client.get(f"/v1/conversations/{conversation_id}")).json()
    times = {"started_at": "2026-01-01T00:00:00Z", "completed_at": "2026-01-01T00:00:00Z"}
    assert body == {
        "conversation_id": conversation_id,
        "chat_history": [
            history_turn("Say hello.", "Hello!", provider="", model="", **times),
            history_turn("Again.", "Hello again!", provider="", model="", **times),
        ],
    }


async def test_an_agents_conversation_history_comes_from_its_session(agents_client, fake_agents):
    client = await agents_client()
    fake_agents.steps = fixture_steps("text.sse")
    conversation_id = await started(client, None)
    fake_agents.session_turns[conversation_id] = [
        {
            "turn_id": "t1",
            "input_messages": [{"role": "user", "content": "Say hello."}],
            "output_message": {"role": "assistant", "content": "Hello!", "stop_reason": "end"},
            "started_at": "2025-01-01T00:00:01Z",
            "completed_at": "2025-01-01T00:00:02Z",
        }
    ]
    body = await (await client.get(f"/v1/conversations/{conversation_id}")).json()
    assert body == {
        "conversation_id": conversation_id,
        "chat_history": [
            history_turn(
                "Say hello.",
                "Hello!",
                provider="",
                model="",
                started_at="2025-01-01T00:00:01Z",
                completed_at="2025-01-01T00:00:02Z",
            )
        ],
    }


def reference_ui_history(body: dict[str, Any]) -> list[tuple[str, str]]:
    """lightspeed-reference-ui's reading (hooks/useChatbot.ts loadConversationMessages).

    Every message of every `chat_history` entry, in order: `type` 'user' is the user's,
    anything else the bot's, each showing `content`.
    """
    return [
        ("user" if message["type"] == "user" else "bot", message["content"])
        for entry in body["chat_history"]
        for message in entry["messages"]
    ]


async def test_the_reference_ui_shows_the_demo_history(make_client):
    client = await make_client()
    first = await (await client.post("/v1/query", json={"query": "One?"})).json()
    body = await (await client.get(f"/v1/conversations/{first['conversation_id']}")).json()
    assert reference_ui_history(body) == [("user", "One?"), ("bot", ANSWER)]


def deleted(upstream: str, request: pytest.FixtureRequest) -> list[str]:
    """What the upstream was asked to delete (the demo agent has no server to ask)."""
    if upstream == "responses":
        fake: FakeResponsesUpstream = request.getfixturevalue("fake_responses")
        return fake.deleted
    if upstream.startswith("agents"):
        agents: FakeAgentsUpstream = request.getfixturevalue("fake_agents")
        return agents.deleted
    return []


async def test_history_and_delete_serve_only_the_owner(service: Restart, kind, request):
    client = await service()
    mine = await started(client, ALICE)
    for conversation_id in (mine, UNKNOWN[kind]):
        for method in (client.get, client.delete):
            refused = await method(f"/v1/conversations/{conversation_id}", headers=bearer(BOB))
            assert refused.status == 404
            assert await refused.read() == NOT_FOUND
    assert deleted(kind, request) == []
    own = await client.get(f"/v1/conversations/{mine}", headers=bearer(ALICE))
    assert own.status == 200
    assert (await own.json())["conversation_id"] == mine
    gone = await client.delete(f"/v1/conversations/{mine}", headers=bearer(ALICE))
    assert gone.status == 200
    assert await gone.json() == {
        "deleted": True,
        "conversation_id": mine,
        "response": "Conversation deleted successfully",
        "success": True,
    }
    assert deleted(kind, request) == ([] if kind == "demo" else [mine])
    for method in (client.get, client.delete):
        again = await method(f"/v1/conversations/{mine}", headers=bearer(ALICE))
        assert again.status == 404
        assert await again.read() == NOT_FOUND
    continued = await client.post(
        "/v1/streaming_query", json={"query": "hi", "conversation_id": mine}, headers=bearer(ALICE)
    )
    assert continued.status == 404


async def test_history_and_delete_answer_503_when_the_upstream_is_down(make_client):
    client = await make_client(**_down())
    for method in (client.get, client.delete):
        await _unavailable(await method(f"/v1/conversations/conv_{'0' * 48}"))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/feedback"),
        ("POST", "/v1/feedback/"),
        ("GET", "/v1/conversations"),
        ("POST", "/v1/query/"),
    ],
)
async def test_the_routes_the_docs_list_as_not_served_are_404_json(make_client, method, path):
    client = await make_client()
    response = await client.request(method, path, json={"chatFeedback": {"sentiment": 1}})
    assert response.status == 404
    assert await response.json() == {"detail": {"response": "Not Found", "cause": "No such route."}}
