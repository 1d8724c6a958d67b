"""The lightspeed-stack 0.7.1 request fields that work here: `media_type` and `vector_store_ids`."""

from __future__ import annotations

import pytest

from fakes.agents_upstream import Sleep, fixture_steps
from formatters.events import (
    Document,
    EndEvent,
    ErrorEvent,
    Event,
    TextDeltaEvent,
    ToolCallEvent,
)
from formatters.frames import encode
from formatters.plain_text import PlainTextFormatter

TEXT = {"query": "Hi", "media_type": "text/plain"}
DEMO_TEXT = (
    "[Tool Call: knowledge_search]\n[Tool Result]\n[Tool Call: get_gateway_status]\n"
    "[Tool Result]\nagent-stream-gateway sits between your chat frontend and a llama-stack agent."
    " It turns the agent's stream into the SSE dialect your frontend speaks, and sends heartbeats"
    " while the agent is busy, so no proxy mistakes a thinking agent for a dead one."
    "\n\n---\n\n"
    "What agent-stream-gateway does: https://docs.example.com/agent-stream-gateway/overview\n"
    "Stream formats: https://docs.example.com/agent-stream-gateway/formats"
)


async def test_text_plain_streams_the_answer_text_as_lightspeed_stack_0_7_1(make_client):
    client = await make_client()
    response = await client.post("/v1/streaming_query", json={**TEXT, "query": "What is this?"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert (await response.read()).decode() == DEMO_TEXT


async def test_text_plain_overrides_the_format_and_sends_no_heartbeats(agents_client, fake_agents):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:3], Sleep(2.5), *steps[3:]]
    client = await agents_client()  # 1 s heartbeats for SSE formats
    response = await client.post("/v1/streaming_query?format=raw", json=TEXT)
    assert (await response.read()).decode() == (
        "Hello from the fake model. This is a scripted answer."
    )


async def test_text_plain_writes_an_upstream_error_as_its_status_line(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("fail-mid.sse")
    client = await agents_client()
    response = await client.post("/v1/streaming_query", json=TEXT)
    assert (await response.read()).decode() == (
        "This answer will fail "
        "Status: 500 - The agent failed - 500: Internal server error: An unexpected error occurred."
    )


def test_the_text_formatter_writes_one_line_per_call_and_the_gateways_error_codes() -> None:
    formatter = PlainTextFormatter()
    call = ToolCallEvent(chunk=0, step="inference", call_id="a", name="echo", arguments={})
    events: list[Event] = [
        call,
        call.model_copy(update={"step": "tool_execution"}),
        TextDeltaEvent(chunk=1, text="Hi"),
        ErrorEvent(message="Too slow.", source="gateway", code="timeout"),
        EndEvent(referenced_documents=[Document(url="https://d/1", title="One")]),
    ]
    assert encode(frame for event in events for frame in formatter.format(event)) == (
        "[Tool Call: echo]\nHiStatus: 504 - The answer took too long - Too slow."
        "\n\n---\n\nOne: https://d/1"
    )


async def test_another_media_type_is_a_422_as_in_lightspeed_stack(make_client):
    client = await make_client()
    response = await client.post("/v1/streaming_query", json={**TEXT, "media_type": "text/html"})
    assert response.status == 422
    assert await response.json() == {
        "detail": {
            "response": "Invalid request",
            "cause": "media_type: Input should be 'application/json' or 'text/plain'",
        }
    }


@pytest.mark.parametrize("route", ["/v1/streaming_query", "/v1/query"])
@pytest.mark.parametrize(
    ("allowed", "offered"), [("", "none"), ("ocp_docs,kb", "ocp_docs, kb")], ids=["none", "two"]
)
async def test_a_vector_store_not_offered_is_a_422_naming_the_allowed(
    make_client, route, allowed, offered
):
    client = await make_client(allowed_vector_store_ids=allowed)
    body = {"query": "Hi", "vector_store_ids": ["kb", "secret"] if allowed else ["secret"]}
    response = await client.post(route, json=body)
    assert response.status == 422
    assert await response.json() == {
        "detail": {
            "response": "Invalid request",
            "cause": f"vector_store_ids: secret not offered here; allowed: {offered}",
        }
    }


async def test_allowed_vector_stores_replace_the_configured_ones(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(
        agent_toolgroups="builtin::rag",
        agent_vector_db_ids="default_db",
        allowed_vector_store_ids="ocp_docs,kb",
    )
    body = {"query": "Hi", "vector_store_ids": ["kb"]}
    assert (await client.post("/v1/streaming_query", json=body)).status == 200
    assert fake_agents.agents[0]["agent_config"]["toolgroups"] == [
        {"name": "builtin::rag/knowledge_search", "args": {"vector_db_ids": ["kb"]}}
    ]


async def test_text_plain_with_resumable_streams_on_is_still_plain_text(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(resume_window=30)
    response = await client.post("/v1/streaming_query", json=TEXT)
    assert "X-Stream-ID" not in response.headers
    assert (await response.read()).decode() == (
        "Hello from the fake model. This is a scripted answer."
    )
