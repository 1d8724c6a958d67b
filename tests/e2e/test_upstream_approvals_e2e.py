"""The real server's MCP tool approvals (`require_approval`), straight on `POST /v1/responses`.

What the gateway's Responses adapter relies on, checked on every Responses release of the tier
(llama-stack 0.7.3, OGX 1.5.0 and 1.2.5 behave alike; 0.2.23 has no approvals): a
guarded call ends the response with an `mcp_approval_request` item; the continuation on a
conversation must carry a copy of that item with the `mcp_approval_response`; a denied call is
dropped with no answer at all. /work/notes/issue20-mechanics.md has the whole story.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import LlamaStack
from tests.e2e.processes import request_json, request_sse
from tests.e2e.stacks import MCP_LABEL

pytestmark = pytest.mark.e2e

QUESTION = "SCENARIO:tool What is the weather in Paris?"
WEATHER = '{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}'
NOTE = "The user denied the call of get_weather: not today."


class Upstream:
    """Responses requests to the real server with the MCP tool guarded (`always`)."""

    def __init__(self, stack: LlamaStack) -> None:
        if stack.version.api != "responses":
            pytest.skip(
                f"{stack.version.label} runs the Agents API here, which has no tool approvals"
                " (its Responses API takes `require_approval` and ignores it)"
            )
        self.url = stack.url
        self.tool = {
            "type": "mcp",
            "server_label": MCP_LABEL,
            "server_url": f"{stack.mcp.url}/mcp",
            "require_approval": "always",
        }
        self.model = stack.version.model

    def conversation(self) -> str:
        """Create an empty conversation and return its id."""
        return str(request_json("POST", f"{self.url}/v1/conversations", {})["id"])

    def respond(self, given: str | list[dict[str, Any]], **extra: Any) -> list[dict[str, Any]]:
        """Stream one response and return its events."""
        body = {"model": self.model, "input": given, "stream": True, "tools": [self.tool]}
        return request_sse(f"{self.url}/v1/responses", {**body, **extra})


@pytest.fixture
def upstream(llama_stack: LlamaStack) -> Upstream:
    return Upstream(llama_stack)


def items(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The `output_item.done` items of one type."""
    return [
        event["item"]
        for event in events
        if event["type"] == "response.output_item.done" and event["item"]["type"] == kind
    ]


def completed(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The response of the stream's last event, which must be `response.completed`."""
    assert events[-1]["type"] == "response.completed", json.dumps(events[-1])[:500]
    assert [e["type"] for e in events].count("response.completed") == 1
    return dict(events[-1]["response"])


def answer(events: list[dict[str, Any]]) -> str:
    """The streamed answer text."""
    return "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")


def decision(request_item: dict[str, Any], approve: bool) -> dict[str, Any]:
    """The `mcp_approval_response` on a request item."""
    return {
        "type": "mcp_approval_response",
        "approval_request_id": request_item["id"],
        "approve": approve,
    }


def asked(upstream: Upstream, **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ask the guarded question; return the approval request item and the response."""
    events = upstream.respond(QUESTION, **extra)
    requests = items(events, "mcp_approval_request")
    assert len(requests) == 1, json.dumps(events)[:2000]
    return requests[0], completed(events)


def test_a_guarded_call_ends_the_response_with_an_approval_request(upstream):
    events = upstream.respond(QUESTION, conversation=upstream.conversation())
    added = [
        e["item"]
        for e in events
        if e["type"] == "response.output_item.added" and e["item"]["type"] == "mcp_approval_request"
    ]
    [item] = items(events, "mcp_approval_request")
    assert added == [item]
    assert item["id"].startswith("approval_")
    assert item == {
        "type": "mcp_approval_request",
        "id": item["id"],
        "name": "get_weather",
        "arguments": '{"city": "test"}',
        "server_label": MCP_LABEL,
    }
    response = completed(events)
    assert response["status"] == "completed"
    assert [output["type"] for output in response["output"]] == [
        "mcp_list_tools",
        "mcp_approval_request",
    ]
    assert items(events, "mcp_call") == []
    assert answer(events) == ""


def test_approved_with_the_request_copy_on_a_conversation_the_tool_runs(upstream):
    conversation = upstream.conversation()
    item, _ = asked(upstream, conversation=conversation)
    events = upstream.respond([item, decision(item, True)], conversation=conversation)
    [call] = items(events, "mcp_call")
    assert (call["name"], call["arguments"], call["output"], call["error"]) == (
        "get_weather",
        '{"city": "test"}',
        WEATHER,
        None,
    )
    assert items(events, "mcp_approval_request") == []
    assert answer(events) == f"The tool returned: {WEATHER}"
    completed(events)


def test_without_the_request_copy_a_conversation_asks_again(upstream):
    """OGX does not look the request up in the conversation's items: a new request comes."""
    conversation = upstream.conversation()
    item, _ = asked(upstream, conversation=conversation)
    events = upstream.respond([decision(item, True)], conversation=conversation)
    [again] = items(events, "mcp_approval_request")
    assert again["id"] != item["id"]
    assert {key: again[key] for key in ("name", "arguments")} == {
        "name": "get_weather",
        "arguments": '{"city": "test"}',
    }
    assert items(events, "mcp_call") == []
    completed(events)


def test_approved_after_a_previous_response_needs_no_copy(upstream):
    item, response = asked(upstream)
    events = upstream.respond([decision(item, True)], previous_response_id=response["id"])
    assert [call["output"] for call in items(events, "mcp_call")] == [WEATHER]
    assert answer(events) == f"The tool returned: {WEATHER}"


def test_denied_the_call_is_dropped_and_the_response_has_no_answer(upstream):
    """The model is not told: the repeated call is dropped and the response ends at once."""
    conversation = upstream.conversation()
    item, _ = asked(upstream, conversation=conversation)
    denied = {**decision(item, False), "reason": "Not today."}
    events = upstream.respond([item, denied], conversation=conversation)
    response = completed(events)
    assert [output["type"] for output in response["output"]] == ["mcp_list_tools"]
    assert items(events, "mcp_call") == []
    assert answer(events) == ""


def test_a_developer_note_after_a_denial_reaches_the_model(upstream):
    conversation = upstream.conversation()
    item, _ = asked(upstream, conversation=conversation)
    note = {"type": "message", "role": "developer", "content": NOTE}
    events = upstream.respond([item, decision(item, False), note], conversation=conversation)
    assert items(events, "mcp_call") == []
    assert items(events, "mcp_approval_request") == []
    assert answer(events) == f"Understood: {NOTE}"
    completed(events)


TWO_CALLS = "SCENARIO:tool:2 What is the weather in Paris and in Lyon?"
WEATHER_2 = '{"city": "test2", "temperature_c": 21, "sky": "clear", "source": "mcp"}'


def test_two_guarded_calls_ask_twice_and_each_decision_counts(upstream):
    """Two calls in one answer: two requests; approve one and deny the other, one tool runs."""
    conversation = upstream.conversation()
    events = upstream.respond(TWO_CALLS, conversation=conversation)
    first, second = items(events, "mcp_approval_request")
    assert [json.loads(item["arguments"]) for item in (first, second)] == [
        {"city": "test"},
        {"city": "test2"},
    ]
    completed(events)
    given = [first, second, decision(first, True), decision(second, False)]
    events = upstream.respond(given, conversation=conversation)
    assert [call["output"] for call in items(events, "mcp_call")] == [WEATHER]
    assert items(events, "mcp_approval_request") == []
    assert answer(events) == f"The tool returned: {WEATHER}"
    completed(events)


def test_one_of_two_decided_runs_it_asks_again_for_the_other_and_answers_too(upstream):
    """So a continuation must carry every pending decision: OGX re-asks an undecided call (a
    new id) and still runs the decided one and answers, in the same response."""
    conversation = upstream.conversation()
    first, second = items(
        upstream.respond(TWO_CALLS, conversation=conversation), "mcp_approval_request"
    )
    events = upstream.respond([first, decision(first, True)], conversation=conversation)
    [again] = items(events, "mcp_approval_request")
    assert (again["arguments"], again["id"] != second["id"]) == (second["arguments"], True)
    assert [call["output"] for call in items(events, "mcp_call")] == [WEATHER]
    assert answer(events) == f"The tool returned: {WEATHER}"
    response = completed(events)
    assert [output["type"] for output in response["output"]] == [
        "mcp_list_tools",
        "mcp_approval_request",
        "mcp_call",
        "message",
    ]
