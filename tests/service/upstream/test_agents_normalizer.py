"""Agents turn-stream chunks (real llama-stack 0.2.23 captures) → normalized events."""

from __future__ import annotations

import pytest

from fakes.agents_upstream import fixture_chunks
from formatters.events import (
    Document,
    DocumentsEvent,
    ErrorEvent,
    HeartbeatEvent,
    ShieldEvent,
    ShieldViolation,
    StepEndEvent,
    StepStartEvent,
    TextContent,
    ToolCallEvent,
    ToolResultEvent,
    TurnCompleteEvent,
)
from service.upstream.agents_normalizer import normalize_chunk
from service.upstream.texts import NO_MESSAGE
from tests.paths import AGENTS_FIXTURES


def event_types(name: str) -> list[str]:
    chunks = fixture_chunks(name)
    return [event.type for i, chunk in enumerate(chunks) for event in normalize_chunk(i, chunk)]


@pytest.mark.parametrize("path", sorted(AGENTS_FIXTURES.glob("*.sse")), ids=lambda p: p.name)
def test_every_fixture_chunk_maps_without_heartbeat_fallbacks(path) -> None:
    for index, chunk in enumerate(fixture_chunks(path)):
        events = normalize_chunk(index, chunk)
        payload = chunk.get("event", {}).get("payload", {})
        silent = (payload.get("event_type"), payload.get("step_type")) == (
            "step_progress",
            "tool_execution",
        )
        assert bool(events) != silent, f"chunk {index}: {events}"
        assert all(event.chunk == index for event in events)
        assert not any(isinstance(event, HeartbeatEvent) for event in events)


def test_text_turn() -> None:
    assert event_types("text.sse") == [
        "step_start",
        *["text_delta"] * 10,
        "step_end",
        "turn_complete",
    ]


def test_client_tool_turn_awaits_input() -> None:
    assert event_types("tool.sse") == [
        "step_start",
        "text_delta",
        "tool_call",
        "step_end",
        "turn_awaiting_input",
    ]


def test_shield_violation() -> None:
    chunks = fixture_chunks("shield.sse")
    assert normalize_chunk(1, chunks[1]) == [
        ShieldEvent(
            chunk=1,
            step="shield_call",
            violation=ShieldViolation(
                user_message="I can't answer that. Can I help with something else?",
                metadata={"violation_type": "S1"},
                level="error",
            ),
        ),
        StepEndEvent(chunk=1, step="shield_call"),
    ]
    assert normalize_chunk(2, chunks[2]) == [
        TurnCompleteEvent(chunk=2, text="I can't answer that. Can I help with something else?")
    ]


def test_server_side_tool_execution() -> None:
    chunks = fixture_chunks("mcp.sse")
    assert normalize_chunk(6, chunks[6]) == [
        ToolCallEvent(
            chunk=6,
            step="tool_execution",
            call_id="call_fake_0001",
            name="get_weather",
            arguments={"city": "test"},
        ),
        ToolResultEvent(
            chunk=6,
            step="tool_execution",
            call_id="call_fake_0001",
            name="get_weather",
            content=[
                TextContent(
                    text='{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}'
                )
            ],
        ),
        StepEndEvent(chunk=6, step="tool_execution"),
    ]
    assert normalize_chunk(5, chunks[5]) == [], "tool_execution progress is silent"


def test_knowledge_search_documents_are_harvested() -> None:
    text = (
        "Result 1\nContent: x\nMetadata: {'docs_url': 'https://d/1', 'title': \"Bob's doc\", "
        "'document_id': 'd1', 'source': None, 'flag': True}\n"
    )
    chunk = {
        "event": {
            "payload": {
                "event_type": "step_complete",
                "step_type": "tool_execution",
                "step_details": {
                    "tool_calls": [],
                    "tool_responses": [
                        {
                            "call_id": "c",
                            "tool_name": "knowledge_search",
                            "content": [
                                {"type": "text", "text": "found 1 chunks:\n"},
                                {"type": "text", "text": text},
                                {"type": "text", "text": "\nMetadata: {'title': 'no id'}\n"},
                            ],
                        }
                    ],
                },
            }
        }
    }
    events = normalize_chunk(0, chunk)
    assert events[-2] == DocumentsEvent(
        chunk=0,
        step="tool_execution",
        documents=[Document(url="https://d/1", title="Bob's doc", document_id="d1")],
    )


@pytest.mark.parametrize(
    ("chunk", "message"),
    [
        ({"error": {"message": "boom"}}, "boom"),
        ({"error": {}}, NO_MESSAGE),
        ({"error": "text"}, NO_MESSAGE),
    ],
)
def test_error_chunks(chunk, message) -> None:
    assert normalize_chunk(3, chunk) == [ErrorEvent(chunk=3, message=message)]


@pytest.mark.parametrize(
    "chunk",
    [
        {"event": {"payload": {"event_type": "step_start", "step_type": "memory_retrieval"}}},
        {"event": {"payload": {"event_type": "step_progress"}}},
        {"event": {"payload": {"event_type": "something_new"}}},
        {"unexpected": True},
        [1, 2],
    ],
)
def test_anything_else_is_a_heartbeat(chunk) -> None:
    assert normalize_chunk(0, chunk) == [HeartbeatEvent(chunk=0)]


def test_step_start_of_known_steps() -> None:
    chunk = {"event": {"payload": {"event_type": "step_start", "step_type": "tool_execution"}}}
    assert normalize_chunk(0, chunk) == [StepStartEvent(chunk=0, step="tool_execution")]


def test_turn_complete_with_content_items_is_flattened() -> None:
    content = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    chunk = {
        "event": {
            "payload": {
                "event_type": "turn_complete",
                "turn": {"output_message": {"content": content}},
            }
        }
    }
    assert normalize_chunk(0, chunk) == [TurnCompleteEvent(chunk=0, text="a b")]
