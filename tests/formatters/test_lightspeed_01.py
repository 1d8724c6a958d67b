"""The lightspeed-0.1 formatter's exact bytes for normalized events."""

from __future__ import annotations

from formatters.events import (
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    ImageContent,
    ShieldEvent,
    ShieldViolation,
    TextContent,
    ToolResultEvent,
)
from formatters.lightspeed_01 import Lightspeed01Formatter
from tests.formatters.cases import CASES, texts


def render(events: list[Event]) -> str:
    formatter = Lightspeed01Formatter()
    return "".join(frame for event in events for frame in texts(formatter.format(event)))


def test_tool_call_case() -> None:
    assert render(CASES["tool_call"]) == (
        'data: {"event": "start", "data": {"conversation_id": "c0ffee00-0000-0000-0000-000000000000"}}\n\n'
        'data: {"event": "token", "data": {"id": 0, "token": ""}}\n\n'
        'data: {"event": "token", "data": {"id": 1, "role": "inference", "token": ""}}\n\n'
        'data: {"event": "tool_call", "data": {"id": 2, "role": "inference", "token": ""}}\n\n'
        'data: {"event": "tool_call", "data": {"id": 3, "role": "inference", "token": "[get_weather(city="}}\n\n'
        'data: {"event": "tool_call", "data": {"id": 4, "role": "inference", "token": "get_weather"}}\n\n'
        'data: {"event": "tool_call", "data": {"id": 5, "role": "tool_execution", "token": ""}}\n\n'
        'data: {"event": "tool_call", "data": {"id": 6, "role": "tool_execution", "token": "Tool:get_weather arguments:{\'city\': \'Paris\', \'days\': 2.0}"}}\n\n'
        'data: {"event": "tool_call", "data": {"id": 6, "role": "tool_execution", "token": "Tool:get_weather response:[TextContentItem(text=\'sunny, 21 \\u00b0C\', type=\'text\')]"}}\n\n'
        'data: {"event": "token", "data": {"id": 8, "role": "inference", "token": "It is sunny."}}\n\n'
        'data: {"event": "turn_complete", "data": {"id": 9, "token": "It is sunny."}}\n\n'
        'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, "input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
    )


def test_documents_case_lists_them_in_end() -> None:
    frames = render(CASES["documents"]).split("\n\n")
    assert (
        frames[1]
        == 'data: {"event": "token", "data": {"id": 0, "role": "shield_call", "token": "No Violation"}}'
    )
    assert frames[2] == (
        'data: {"event": "tool_call", "data": {"id": 1, "role": "tool_execution", "token": '
        '"Tool:knowledge_search summary:knowledge_search tool found 2 chunks:"}}'
    )
    assert frames[-2] == (
        'data: {"event": "end", "data": {"referenced_documents": ['
        '{"doc_url": "https://docs.example.com/a", "doc_title": "About OpenShift"}, '
        '{"doc_url": "https://docs.example.com/b", "doc_title": "Installing"}], '
        '"truncated": null, "input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}'
    )


def test_non_ascii_and_newlines_are_escaped_on_one_line() -> None:
    frames = render(CASES["text_only"]).split("\n\n")
    assert frames[3] == (
        'data: {"event": "token", "data": {"id": 2, "role": "inference", '
        '"token": "w\\u00f6rld \\"quoted\\"\\nnext line"}}'
    )


def test_timer_heartbeats_count_as_frames() -> None:
    frames = render(CASES["long_silence"]).split("\n\n")
    assert frames[2] == 'data: {"event": "heartbeat", "data": {"id": 1, "token": "heartbeat"}}'
    assert frames[6] == 'data: {"event": "heartbeat", "data": {"id": 5, "token": "heartbeat"}}'
    assert (
        frames[7]
        == 'data: {"event": "token", "data": {"id": 6, "role": "inference", "token": "... done"}}'
    )


def test_error_frame() -> None:
    assert render([ErrorEvent(chunk=0, message="boom")]) == (
        'data: {"event": "error", "data": {"id": 0, "token": "boom"}}\n\n'
    )


def test_shield_violation_with_no_user_message() -> None:
    event = ShieldEvent(chunk=0, step="shield_call", violation=ShieldViolation(metadata={}))
    assert render([event]) == (
        'data: {"event": "token", "data": {"id": 0, "role": "shield_call", '
        '"token": "Violation: None (Metadata: {})"}}\n\n'
    )


def test_query_from_memory_counts_characters() -> None:
    event = ToolResultEvent(
        chunk=0,
        step="tool_execution",
        call_id="c",
        name="query_from_memory",
        content=[TextContent(text="abc"), ImageContent(url="https://i/x.png")],
    )
    assert '"token": "Fetched 11 bytes from memory"' in render([event])


def test_knowledge_search_with_string_content_has_an_empty_summary() -> None:
    event = ToolResultEvent(
        chunk=0, step="tool_execution", call_id="c", name="knowledge_search", content="found\nx"
    )
    assert '"token": "Tool:knowledge_search summary:"' in render([event])


def test_knowledge_search_with_empty_content_shows_the_response() -> None:
    event = ToolResultEvent(
        chunk=0, step="tool_execution", call_id="c", name="knowledge_search", content=[]
    )
    assert '"token": "Tool:knowledge_search response:[]"' in render([event])


def test_end_reports_truncation_and_the_releases_placeholder_token_counts() -> None:
    """0.1.3 hard-codes `0` and `0` (its TODOs): the counts the upstream reported are not sent."""
    assert render([EndEvent(truncated=True, input_tokens=3, output_tokens=5)]) == (
        'data: {"event": "end", "data": {"referenced_documents": [], "truncated": true, '
        '"input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
    )


def test_heartbeat_without_chunk_never_shares_an_id() -> None:
    text = render([HeartbeatEvent(), HeartbeatEvent()])
    assert '"id": 0,' in text and '"id": 1,' in text
