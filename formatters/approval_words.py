"""What the formats say about a tool approval: its request's fields, a refused call's words."""

from __future__ import annotations

import json

from formatters.events import (
    ApprovalRequestEvent,
    ApprovalResultEvent,
    JsonObject,
    ToolCallEvent,
    ToolResultEvent,
)

_REFUSALS = {
    "denied": "Tool '{name}' execution was rejected. Do not retry this exact tool call.",
    "expired": "Tool '{name}' approval timed out. Do not retry this exact tool call.",
    "unanswerable": (
        "Tool '{name}' was not run: it needs a person's approval, which this client cannot give."
    ),
}
"""A tool result's words for a call that did not run, by decision (lightspeed-service's words
for a rejection and a timeout, `ols/src/tools/tools.py`)."""


def approval_required(event: ApprovalRequestEvent) -> JsonObject:
    """Return lightspeed-service's `approval_required` data, with the id of the call's tool_call.

    `{approval_id, tool_name, tool_description, tool_args, tool_annotation}` as
    openshift/lightspeed-service streams it (we know no tool annotations: `{}`), and
    `tool_call_id`, the `id` of the `tool_call` frame of the same call.
    """
    return {
        "approval_id": event.approval_id,
        "tool_name": event.name,
        "tool_description": event.description or "",
        "tool_args": arguments_object(event.arguments),
        "tool_annotation": {},
        "tool_call_id": event.call_id,
    }


def refusal_text(event: ApprovalResultEvent) -> str:
    """Return the words for a call its approval did not let run.

    A denial's reason (the person's) follows them; the gateway's own reason for a call the
    client cannot approve stands for them; a timeout's words say all its reason would.
    """
    if event.decision == "unanswerable" and event.reason:
        return event.reason
    text = _REFUSALS.get(event.decision, _REFUSALS["denied"]).format(name=event.name)
    return f"{text} Reason: {event.reason}" if event.decision == "denied" and event.reason else text


def refused_result(event: ApprovalResultEvent) -> ToolResultEvent:
    """Return the failed tool result a format that has no decision frame shows a refusal as."""
    return ToolResultEvent(
        chunk=event.chunk,
        step="tool_execution",
        call_id=event.call_id,
        name=event.name,
        content=refusal_text(event),
        failed=True,
    )


def answer_note(event: ApprovalResultEvent) -> str:
    """Return the answer text that tells a reader a tool did not run (formats that cannot ask)."""
    return f"\n\n*{refusal_text(event)}*\n\n"


def arguments_object(arguments: JsonObject | str) -> JsonObject:
    """Return a call's arguments as an object: JSON text parsed, other text as `{"input": ...}`."""
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {"input": arguments}


def announced_call(event: ApprovalRequestEvent) -> ToolCallEvent:
    """Return the tool call an approval request is about, for a stream that has not shown it."""
    return ToolCallEvent(
        chunk=event.chunk,
        step=event.step,
        call_id=event.call_id,
        name=event.name,
        arguments=event.arguments,
    )
