"""The lightspeed-0.3 formatter's exact bytes: no roles, tool_result frames, a repeated start."""

from __future__ import annotations

from formatters.events import Event, HeartbeatEvent
from formatters.lightspeed_03 import Lightspeed03Formatter
from tests.formatters.cases import CASES, texts

START = 'data: {"event": "start", "data": {"conversation_id": "c0ffee00-0000-0000-0000-000000000000"}}\n\n'
END = (
    'data: {"event": "end", "data": {"rag_chunks": [], "referenced_documents": [], '
    '"truncated": null, "input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
)


def render(events: list[Event]) -> str:
    formatter = Lightspeed03Formatter()
    return "".join(frame for event in events for frame in texts(formatter.format(event)))


def test_tool_call_case() -> None:
    assert (
        render(CASES["tool_call"])
        == (
            START
            + START  # the turn's start: 0.3.0 sends `start` again, and counts it
            + 'data: {"event": "token", "data": {"id": 1, "token": ""}}\n\n'
            'data: {"event": "tool_call", "data": {"id": 2, "token": ""}}\n\n'
            'data: {"event": "tool_call", "data": {"id": 3, "token": "[get_weather(city="}}\n\n'
            'data: {"event": "tool_call", "data": {"id": 4, "token": "get_weather"}}\n\n'
            'data: {"event": "tool_call", "data": {"id": 5, "token": ""}}\n\n'
            'data: {"event": "tool_call", "data": {"id": 6, "token": {"tool_name": "get_weather", "arguments": {"city": "Paris", "days": 2.0}}}}\n\n'
            'data: {"event": "tool_result", "data": {"id": 6, "token": {"tool_name": "get_weather", "response": "sunny, 21 \\u00b0C"}}}\n\n'
            'data: {"event": "token", "data": {"id": 8, "token": "It is sunny."}}\n\n'
            'data: {"event": "turn_complete", "data": {"token": "It is sunny."}}\n\n' + END
        )
    )


def test_shield_and_knowledge_search_have_no_role() -> None:
    frames = render(CASES["documents"]).split("\n\n")
    assert frames[1:3] == [
        'data: {"event": "token", "data": {"id": 0, "token": "No Violation"}}',
        'data: {"event": "tool_result", "data": {"id": 1, "token": '
        '{"tool_name": "knowledge_search", "summary": "knowledge_search tool found 2 chunks:"}}}',
    ]


def test_an_error_has_0_3_s_chunk_error_shape_then_end() -> None:
    assert render(CASES["error_mid_stream"]) == (
        START + 'data: {"event": "token", "data": {"id": 0, "token": "Partial"}}\n\n'
        'data: {"event": "error", "data": {"id": 1, "token": "500: Internal server error"}}\n\n'
        + END
    )


def test_an_unhandled_chunk_is_a_heartbeat_token_but_our_keep_alive_a_comment() -> None:
    formatter = Lightspeed03Formatter()
    assert texts(formatter.format(HeartbeatEvent(chunk=3))) == [
        'data: {"event": "token", "data": {"id": 0, "token": "heartbeat"}}\n\n'
    ]
    assert texts(formatter.format(HeartbeatEvent())) == [": heartbeat\n\n"]
    assert texts(formatter.format(HeartbeatEvent(chunk=4))) == [
        'data: {"event": "token", "data": {"id": 1, "token": "heartbeat"}}\n\n'
    ]
