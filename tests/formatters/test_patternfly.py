"""The patternfly formatter (our own lightspeed-shaped dialect): its exact bytes, frame by frame."""

from __future__ import annotations

from formatters.events import (
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    ShieldEvent,
    ShieldViolation,
    StartEvent,
    TextDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnCompleteEvent,
)
from formatters.patternfly import PatternflyFormatter
from service.resume.producer import interrupted
from tests.formatters.cases import CASES, texts

START = 'data: {"event": "start", "data": {"conversation_id": "c0ffee00-0000-0000-0000-000000000000"}}\n\n'
END = (
    'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, '
    '"input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
)


def render(events: list[Event]) -> str:
    formatter = PatternflyFormatter()
    return "".join(frame for event in events for frame in texts(formatter.format(event)))


def test_a_tool_turn_is_one_call_frame_one_result_frame_and_the_answer() -> None:
    """No empty tokens, no half-written call, no second frame for the run of the same call."""
    assert render(CASES["tool_call"]) == (
        START + 'data: {"event": "tool_call", "data": {"id": 0, "role": "tool_execution", "token": '
        '{"tool_name": "get_weather", "call_id": "c1", "arguments": {"city": "Paris"}}}}\n\n'
        'data: {"event": "tool_call", "data": {"id": 1, "role": "tool_execution", "token": '
        '{"tool_name": "get_weather", "call_id": "c1", "status": "success", '
        '"response": "sunny, 21 \\u00b0C"}}}\n\n'
        'data: {"event": "token", "data": {"id": 2, "role": "inference", "token": "It is sunny."}}\n\n'
        'data: {"event": "turn_complete", "data": {"id": 3, "token": "It is sunny."}}\n\n' + END
    )


def test_a_shield_violation_is_the_refusal_as_answer_text_without_shield_tokens() -> None:
    assert render(CASES["shield_violation"]) == (
        START + 'data: {"event": "token", "data": {"id": 0, "role": "inference", '
        '"token": "I can\'t answer that."}}\n\n'
        'data: {"event": "turn_complete", "data": {"id": 0, "token": "I can\'t answer that."}}\n\n'
        + END
    )


def test_a_passed_shield_and_a_streamed_refusal_send_no_verdict() -> None:
    """The Responses API streams a guardrail's refusal as text: it is sent once."""
    events: list[Event] = [
        ShieldEvent(chunk=0, step="shield_call"),
        ShieldEvent(chunk=1, step="shield_call", violation=ShieldViolation(user_message="No.")),
        TextDeltaEvent(chunk=1, step="inference", text="No."),
        TurnCompleteEvent(chunk=2, text="No."),
    ]
    assert render(events) == (
        'data: {"event": "token", "data": {"id": 0, "role": "inference", "token": "No."}}\n\n'
        'data: {"event": "turn_complete", "data": {"id": 1, "token": "No."}}\n\n'
    )


def test_an_upstream_error_carries_response_and_cause_beside_token() -> None:
    assert render(CASES["error_mid_stream"]) == (
        START
        + 'data: {"event": "token", "data": {"id": 0, "role": "inference", "token": "Partial"}}\n\n'
        'data: {"event": "error", "data": {"id": 1, "token": "500: Internal server error", '
        '"response": "The agent failed", "cause": "500: Internal server error"}}\n\n' + END
    )


def test_an_interrupt_is_an_interrupted_frame_not_an_error() -> None:
    events: list[Event] = [
        StartEvent(conversation_id="c0ffee00-0000-0000-0000-000000000000"),
        TextDeltaEvent(chunk=0, step="inference", text="Hi"),
        interrupted().error,
        EndEvent(),
    ]
    assert render(events) == (
        START
        + 'data: {"event": "token", "data": {"id": 0, "role": "inference", "token": "Hi"}}\n\n'
        'data: {"event": "interrupted", "data": {"id": 1, "token": "The answer was interrupted.", '
        '"response": "The answer was interrupted", "cause": "The answer was interrupted."}}\n\n'
        + END
    )


def test_arguments_that_are_not_an_object_are_wrapped_in_one() -> None:
    events: list[Event] = [
        ToolCallEvent(chunk=0, step="inference", call_id="a", name="echo", arguments="hi there"),
        ToolCallEvent(chunk=1, step="inference", call_id="b", name="ping", arguments=" "),
    ]
    assert render(events) == (
        'data: {"event": "tool_call", "data": {"id": 0, "role": "tool_execution", "token": '
        '{"tool_name": "echo", "call_id": "a", "arguments": {"input": "hi there"}}}}\n\n'
        'data: {"event": "tool_call", "data": {"id": 1, "role": "tool_execution", "token": '
        '{"tool_name": "ping", "call_id": "b", "arguments": {}}}}\n\n'
    )


def test_a_failed_tool_result_has_status_failure() -> None:
    event = ToolResultEvent(
        chunk=0, step="tool_execution", call_id="a", name="echo", content="boom", failed=True
    )
    assert render([event]) == (
        'data: {"event": "tool_call", "data": {"id": 0, "role": "tool_execution", "token": '
        '{"tool_name": "echo", "call_id": "a", "status": "failure", "response": "boom"}}}\n\n'
    )


def test_heartbeats_and_documents_keep_the_lightspeed_frames() -> None:
    frames = render([HeartbeatEvent(), *CASES["documents"][1:]]).split("\n\n")
    assert frames[0] == 'data: {"event": "heartbeat", "data": {"id": 0, "token": "heartbeat"}}'
    assert frames[1] == (
        'data: {"event": "tool_call", "data": {"id": 1, "role": "tool_execution", "token": '
        '{"tool_name": "knowledge_search", "call_id": "k1", "status": "success", '
        '"summary": "knowledge_search tool found 2 chunks:"}}}'
    )
    assert frames[-2].startswith(
        'data: {"event": "end", "data": {"referenced_documents": [{"doc_url": '
        '"https://docs.example.com/a", "doc_title": "About OpenShift"}, '
    )


def test_a_gateway_error_has_the_same_fields() -> None:
    error = ErrorEvent(message="Too slow.", source="gateway", code="timeout")
    assert render([error]) == (
        'data: {"event": "error", "data": {"id": 0, "token": "Too slow.", '
        '"response": "The answer took too long", "cause": "Too slow."}}\n\n'
    )
