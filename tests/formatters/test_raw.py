"""The raw formatter's exact bytes: every normalized event, named and numbered."""

from __future__ import annotations

import pytest

from formatters.events import (
    EVENT_ADAPTER,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    ImageContent,
    ToolResultEvent,
)
from formatters.raw import RawFormatter, event_name
from tests.formatters.cases import CASES, texts


def render(events: list[Event]) -> str:
    formatter = RawFormatter()
    return "".join(frame for event in events for frame in texts(formatter.format(event)))


def test_text_only_case() -> None:
    assert render(CASES["text_only"]) == (
        "event: start\nid: 0\n"
        'data: {"type":"start","chunk":null,"conversation_id":"c0ffee00-0000-0000-0000-000000000000"}\n\n'
        "event: step_start\nid: 1\n"
        'data: {"type":"step_start","chunk":0,"step":"inference"}\n\n'
        "event: text_delta\nid: 2\n"
        'data: {"type":"text_delta","chunk":1,"step":"inference","text":"Hello, "}\n\n'
        "event: text_delta\nid: 3\n"
        'data: {"type":"text_delta","chunk":2,"step":"inference","text":"w\\u00f6rld \\"quoted\\"\\nnext line"}\n\n'
        "event: step_end\nid: 4\n"
        'data: {"type":"step_end","chunk":3,"step":"inference"}\n\n'
        "event: turn_complete\nid: 5\n"
        'data: {"type":"turn_complete","chunk":4,"text":"Hello, w\\u00f6rld \\"quoted\\"\\nnext line"}\n\n'
        "event: end\nid: 6\n"
        'data: {"type":"end","chunk":null,"referenced_documents":[],"truncated":null,'
        '"input_tokens":0,"output_tokens":0}\n\n'
    )


def test_an_error_is_the_event_turn_error_which_eventsource_keeps_apart_from_its_own() -> None:
    assert texts(RawFormatter().format(ErrorEvent(message="boom", code="upstream_error"))) == [
        "event: turn_error\nid: 0\n"
        'data: {"type":"error","chunk":null,"message":"boom","source":"upstream",'
        '"code":"upstream_error"}\n\n'
    ]
    assert event_name("error") == "turn_error"
    assert event_name("text_delta") == "text_delta"


def test_heartbeats_are_events_with_their_own_id() -> None:
    formatter = RawFormatter()
    texts(formatter.format(CASES["long_silence"][0]))
    assert texts(formatter.format(HeartbeatEvent())) == [
        'event: heartbeat\nid: 1\ndata: {"type":"heartbeat","chunk":null}\n\n'
    ]


def test_tool_results_keep_every_content_item() -> None:
    event = ToolResultEvent(
        chunk=3, call_id="c9", name="camera", content=[ImageContent(url="https://x/y.png")]
    )
    assert texts(RawFormatter().format(event)) == [
        "event: tool_result\nid: 0\n"
        'data: {"type":"tool_result","chunk":3,"step":null,"call_id":"c9","name":"camera",'
        '"content":[{"type":"image","url":"https://x/y.png","data":null}],"failed":false}\n\n'
    ]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_frame_parses_back_to_the_event_it_came_from(case: str) -> None:
    formatter = RawFormatter()
    for sequence, event in enumerate(CASES[case]):
        (frame,) = texts(formatter.format(event))
        name, number, data = frame.removesuffix("\n\n").split("\n")
        assert name == f"event: {event_name(event.type)}"
        assert number == f"id: {sequence}"
        assert EVENT_ADAPTER.validate_json(data.removeprefix("data: ")) == event
