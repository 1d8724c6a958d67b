"""The `lightspeed-0.7` (and `lightspeed-0.4`) frames for what the captures do not show, exactly."""

from __future__ import annotations

import re

import pytest

from formatters.events import (
    Document,
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    StartEvent,
    StepStartEvent,
    TextContent,
    TextDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnCompleteEvent,
)
from formatters.lightspeed_04 import Lightspeed04Formatter
from formatters.lightspeed_07 import Lightspeed07Formatter
from service.resume.producer import interrupted, too_large
from service.streams.pipeline import drained, timed_out
from tests.formatters.cases import texts

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
END = (
    'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, '
    '"context_status": "full", "input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
)


def body(formatter: Lightspeed07Formatter, *events: Event) -> str:
    return "".join(text for event in events for text in texts(formatter.format(event)))


def test_start_names_the_conversation_and_a_fresh_request_id() -> None:
    formatter = Lightspeed07Formatter()
    assert UUID.fullmatch(formatter.request_id)
    assert formatter.request_id != Lightspeed07Formatter().request_id
    assert body(formatter, StartEvent(conversation_id="c0ffee")) == (
        'data: {"event": "start", "data": {"conversation_id": "c0ffee", '
        f'"request_id": "{formatter.request_id}"}}}}\n\n'
    )


def test_tool_calls_and_results_count_rounds_and_a_call_told_twice_is_one_frame() -> None:
    run = {"step": "tool_execution", "name": "get_weather", "call_id": "mcp_1"}
    events: list[Event] = [
        TextDeltaEvent(chunk=0, text="a"),
        ToolCallEvent(chunk=1, arguments='{"city": "x"}', **run),
        ToolCallEvent(chunk=2, arguments={"city": "x"}, **run),
        ToolResultEvent(chunk=2, content=[TextContent(text="21")], **run),
        ToolCallEvent(chunk=3, step="inference", call_id="c2", name="lookup", arguments="{"),
        ToolResultEvent(chunk=4, call_id="c2", name="lookup", content="no", failed=True),
        ToolCallEvent(
            chunk=5, step="tool_execution", call_id="fs", name="file_search", arguments={}
        ),
        TurnCompleteEvent(chunk=6, text="a"),
    ]
    assert body(Lightspeed07Formatter(), *events) == (
        'data: {"event": "token", "data": {"id": 0, "token": "a"}}\n\n'
        'data: {"event": "tool_call", "data": {"id": "mcp_1", "name": "get_weather", '
        '"args": {"city": "x"}, "type": "mcp_call"}}\n\n'
        'data: {"event": "tool_result", "data": {"id": "mcp_1", "status": "success", '
        '"content": "21", "type": "mcp_call", "round": 1}}\n\n'
        'data: {"event": "tool_call", "data": {"id": "c2", "name": "lookup", "args": {}, '
        '"type": "function_call"}}\n\n'
        'data: {"event": "tool_result", "data": {"id": "c2", "status": "failure", '
        '"content": "no", "type": "function_call", "round": 2}}\n\n'
        'data: {"event": "tool_call", "data": {"id": "fs", "name": "file_search", "args": {}, '
        '"type": "file_search_call"}}\n\n'
        'data: {"event": "turn_complete", "data": {"id": 1, "token": "a"}}\n\n'
    )


@pytest.mark.parametrize(
    ("stop", "status", "response"),
    [
        (timed_out(300), 504, "The answer took too long"),
        (drained(), 503, "The service is restarting"),
        (too_large(1024), 413, "The answer was too long"),
    ],
)
def test_a_gateway_error_is_0_7_s_error_frame_with_status_response_and_cause(
    stop: object, status: int, response: str
) -> None:
    error: ErrorEvent = stop.error  # type: ignore[attr-defined]
    frames = body(Lightspeed07Formatter(), error, EndEvent())
    assert frames == (
        f'data: {{"event": "error", "data": {{"status_code": {status}, '
        f'"response": "{response}", "cause": "{error.message}"}}}}\n\n' + END
    )


def test_an_upstream_error_carries_its_message_as_cause() -> None:
    frames = body(Lightspeed07Formatter(), ErrorEvent(chunk=3, message="model down"))
    assert frames == (
        'data: {"event": "error", "data": {"status_code": 500, '
        '"response": "Error while processing query", "cause": "model down"}}\n\n'
    )


def test_an_interrupt_appends_0_7_s_notice_then_interrupted_then_our_end() -> None:
    formatter = Lightspeed07Formatter()
    frames = body(formatter, TextDeltaEvent(chunk=0, text="Hi"), interrupted().error, EndEvent())
    assert frames == (
        'data: {"event": "token", "data": {"id": 0, "token": "Hi"}}\n\n'
        'data: {"event": "token", "data": {"id": 1, "token": "\\n\\n*Response stopped by the '
        'user.*"}}\n\n'
        f'data: {{"event": "interrupted", "data": {{"request_id": "{formatter.request_id}"}}}}\n\n'
        + END
    )


def test_keep_alives_are_comments_and_a_chunk_it_does_not_know_is_nothing() -> None:
    assert body(Lightspeed07Formatter(), HeartbeatEvent(), HeartbeatEvent(chunk=4)) == (
        ": heartbeat\n\n"
    )


def test_end_lists_documents_as_0_7_s_referenced_document() -> None:
    end = EndEvent(
        referenced_documents=[Document(url="https://d/1", title="One", document_id="f1")],
        truncated=True,
        input_tokens=3,
        output_tokens=10,
    )
    assert body(Lightspeed07Formatter(), end) == (
        'data: {"event": "end", "data": {"referenced_documents": [{"doc_url": "https://d/1", '
        '"doc_title": "One", "source": null, "document_id": "f1"}], "truncated": null, '
        '"context_status": "full", "input_tokens": 3, "output_tokens": 10}, '
        '"available_quotas": {}}\n\n'
    )


def test_a_call_followed_by_a_tool_step_of_its_chunk_is_the_server_s_mcp_call() -> None:
    asked = {"name": "get_weather", "call_id": "m1", "arguments": {}}
    events: list[Event] = [
        ToolCallEvent(chunk=1, step="inference", **asked),
        StepStartEvent(chunk=1, step="tool_execution"),
        ToolCallEvent(chunk=3, step="tool_execution", **asked),
        ToolCallEvent(chunk=4, step="inference", name="f", call_id="f1", arguments={}),
        StepStartEvent(chunk=5, step="tool_execution"),
        EndEvent(),
    ]
    assert body(Lightspeed07Formatter(), *events) == (
        'data: {"event": "tool_call", "data": {"id": "m1", "name": "get_weather", "args": {}, '
        '"type": "mcp_call"}}\n\n'
        'data: {"event": "tool_call", "data": {"id": "f1", "name": "f", "args": {}, '
        '"type": "function_call"}}\n\n' + END
    )


def test_lightspeed_0_4_numbers_an_empty_token_per_message_and_ends_without_context_status() -> (
    None
):
    events: list[Event] = [
        StepStartEvent(chunk=0, step="inference"),
        TextDeltaEvent(chunk=1, text="Hi"),
        TurnCompleteEvent(chunk=2, text="Hi"),
        EndEvent(input_tokens=1, output_tokens=2),
    ]
    assert body(Lightspeed04Formatter(), *events) == (
        'data: {"event": "token", "data": {"id": 0, "token": ""}}\n\n'
        'data: {"event": "token", "data": {"id": 1, "token": "Hi"}}\n\n'
        'data: {"event": "turn_complete", "data": {"id": 2, "token": "Hi"}}\n\n'
        'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, '
        '"input_tokens": 1, "output_tokens": 2}, "available_quotas": {}}\n\n'
    )
