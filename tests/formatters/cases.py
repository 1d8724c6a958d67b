"""Shared normalized event sequences every formatter must handle."""

from __future__ import annotations

from formatters.events import (
    ApprovalRequestEvent,
    ApprovalResultEvent,
    Document,
    DocumentsEvent,
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    ShieldEvent,
    ShieldViolation,
    StartEvent,
    StepEndEvent,
    StepStartEvent,
    TextContent,
    TextDeltaEvent,
    ToolCallDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnAwaitingInputEvent,
    TurnCompleteEvent,
    TurnStartEvent,
    UsageEvent,
)
from formatters.frames import FrameValue, encode_frame

DOCS = [
    Document(url="https://docs.example.com/a", title="About OpenShift", document_id="a"),
    Document(url="https://docs.example.com/b", title="Installing", document_id="b"),
]
START = StartEvent(conversation_id="c0ffee00-0000-0000-0000-000000000000")
ASKED_CALL = ToolCallEvent(
    chunk=0, step="inference", call_id="apr_1", name="delete_pod", arguments={"pod": "a"}
)
APPROVAL_REQUEST = ApprovalRequestEvent(
    chunk=0,
    step="inference",
    approval_id="apr_1",
    call_id="apr_1",
    name="delete_pod",
    arguments={"pod": "a"},
    server_label="k8s",
)
"""An MCP tool call that needs approval, as the Responses normalizer gives it."""


def approval_result(decision: str, reason: str | None = None) -> ApprovalResultEvent:
    """The decision on APPROVAL_REQUEST (the gateway's own event: no chunk)."""
    return ApprovalResultEvent.model_validate(
        {
            "approval_id": "apr_1",
            "call_id": "apr_1",
            "name": "delete_pod",
            "decision": decision,
            "reason": reason,
        }
    )


CASES: dict[str, list[Event]] = {
    "text_only": [
        START,
        StepStartEvent(chunk=0, step="inference"),
        TextDeltaEvent(chunk=1, step="inference", text="Hello, "),
        TextDeltaEvent(chunk=2, step="inference", text='wörld "quoted"\nnext line'),
        StepEndEvent(chunk=3, step="inference"),
        TurnCompleteEvent(chunk=4, text='Hello, wörld "quoted"\nnext line'),
        EndEvent(),
    ],
    "tool_call": [
        START,
        TurnStartEvent(chunk=0),
        StepStartEvent(chunk=1, step="inference"),
        ToolCallDeltaEvent(chunk=2, step="inference", delta=""),
        ToolCallDeltaEvent(chunk=3, step="inference", delta="[get_weather(city="),
        ToolCallEvent(
            chunk=4, step="inference", call_id="c1", name="get_weather", arguments={"city": "Paris"}
        ),
        StepEndEvent(chunk=5, step="inference"),
        StepStartEvent(chunk=6, step="tool_execution"),
        ToolCallEvent(
            chunk=7,
            step="tool_execution",
            call_id="c1",
            name="get_weather",
            arguments={"city": "Paris", "days": 2},
        ),
        ToolResultEvent(
            chunk=7,
            step="tool_execution",
            call_id="c1",
            name="get_weather",
            content=[TextContent(text="sunny, 21 °C")],
        ),
        StepEndEvent(chunk=7, step="tool_execution"),
        TextDeltaEvent(chunk=8, step="inference", text="It is sunny."),
        TurnCompleteEvent(chunk=9, text="It is sunny."),
        EndEvent(),
    ],
    "shield_violation": [
        START,
        StepStartEvent(chunk=0, step="shield_call"),
        ShieldEvent(
            chunk=1,
            step="shield_call",
            violation=ShieldViolation(
                user_message="I can't answer that.", metadata={"violation_type": "S1"}
            ),
        ),
        StepEndEvent(chunk=1, step="shield_call"),
        TurnCompleteEvent(chunk=2, text="I can't answer that."),
        EndEvent(),
    ],
    "documents": [
        START,
        ShieldEvent(chunk=0, step="shield_call"),
        ToolResultEvent(
            chunk=1,
            step="tool_execution",
            call_id="k1",
            name="knowledge_search",
            content=[TextContent(text="knowledge_search tool found 2 chunks:\nBEGIN")],
        ),
        DocumentsEvent(chunk=1, step="tool_execution", documents=DOCS),
        TextDeltaEvent(chunk=2, step="inference", text="OpenShift is a platform."),
        TurnCompleteEvent(chunk=3, text="OpenShift is a platform."),
        EndEvent(referenced_documents=DOCS),
    ],
    "error_mid_stream": [
        START,
        TextDeltaEvent(chunk=0, step="inference", text="Partial"),
        ErrorEvent(chunk=1, message="500: Internal server error"),
        EndEvent(),
    ],
    "approval_asked": [
        START,
        ASKED_CALL,
        APPROVAL_REQUEST,
        TurnAwaitingInputEvent(chunk=1),
        EndEvent(),
    ],
    "approval_unanswerable": [
        START,
        ASKED_CALL,
        APPROVAL_REQUEST,
        approval_result("unanswerable"),
        TextDeltaEvent(chunk=2, step="inference", text="The pod stays."),
        TurnCompleteEvent(chunk=3, text="The pod stays."),
        EndEvent(),
    ],
    "long_silence": [
        START,
        TextDeltaEvent(chunk=0, step="inference", text="Thinking"),
        *[HeartbeatEvent() for _ in range(5)],
        TextDeltaEvent(chunk=1, step="inference", text="... done"),
        TurnCompleteEvent(chunk=2, text="Thinking... done"),
        EndEvent(),
    ],
    "usage_then_error": [
        START,
        TextDeltaEvent(chunk=0, step="inference", text="Partial"),
        UsageEvent(chunk=1, input_tokens=12, output_tokens=3),
        ErrorEvent(chunk=1, message="500: Internal server error"),
        EndEvent(input_tokens=12, output_tokens=3),
    ],
}


def texts(frames: list[FrameValue]) -> list[str]:
    """Return the SSE text of each frame value, as a live stream writes it."""
    return [encode_frame(frame) for frame in frames]
