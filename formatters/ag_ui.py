"""The `ag-ui` format: AG-UI protocol events (CopilotKit's), as `@ag-ui/client` reads them.

One run per stream: `RUN_STARTED`, the answer as text messages, each tool the agent ran as
`TOOL_CALL_START/ARGS/END` and `TOOL_CALL_RESULT` (a result means the server ran it: AG-UI
clients run no tool that has one), agent steps as `STEP_STARTED/FINISHED`, the model's reasoning as
a `REASONING_START` span of one reasoning message, then `RUN_FINISHED`
— or `RUN_ERROR`, after which AG-UI allows nothing. Heartbeats are SSE comments.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from formatters.approval_words import announced_call, arguments_object, refused_result
from formatters.base import ApprovalChannel, Formatter, Frame, FrameValue
from formatters.event_json import SLOT, TextTemplate, compact_json, event_object
from formatters.events import (
    ApprovalRequestEvent,
    ApprovalResultEvent,
    DocumentsEvent,
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    JsonObject,
    ReasoningDeltaEvent,
    StartEvent,
    StepEndEvent,
    StepStartEvent,
    TextDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnCompleteEvent,
    UsageEvent,
    content_text,
)
from formatters.frames import KEEP_ALIVE, data_frame
from formatters.usage import TokenCounts, UsageSoFar, camel_case_usage, reported


def new_id() -> str:
    """Return a fresh id for a run or a message."""
    return str(uuid.uuid4())


class RunEvents:
    """Maps one turn's normalized events to AG-UI event payloads, in an order AG-UI accepts."""

    def __init__(self, *, thread_id: str | None, run_id: str) -> None:
        self._thread_id = thread_id
        self._run_id = run_id
        self._message: str | None = None
        self._reasoning: str | None = None
        """The open reasoning message's id: closed (and its span) when anything else starts."""
        self._text_sent = False
        self._steps: list[str] = []
        self._tool_calls: set[str] = set()
        self._documents: list[JsonObject] = []
        self.failed = False
        """Whether RUN_ERROR went out: AG-UI allows nothing after it."""
        self._content: TextTemplate | None = None
        """The open message's TEXT_MESSAGE_CONTENT, its delta left open."""
        self.usage = UsageSoFar()
        """The usage reported so far: RUN_ERROR's `usage` says it."""
        self._interrupts: list[JsonObject] = []
        """The approvals the run waits for: RUN_FINISHED's interrupt outcome."""

    def text_json(self, event: Event) -> str | None:
        """Return a text delta's one event as JSON, written out; None unless a message is open."""
        if (
            type(event) is not TextDeltaEvent
            or not event.text
            or self._content is None
            or self.failed
        ):
            return None
        self._text_sent = True
        return self._content.fill(event.text)

    def payloads(self, event: Event) -> list[JsonObject]:
        """Return the AG-UI events for one normalized event."""
        if self.failed:
            return []  # AG-UI: nothing may follow RUN_ERROR
        match event:
            case TextDeltaEvent(text=text) if text:
                return self._text(text)
            case ReasoningDeltaEvent(text=text) if text:
                return self._reason(text)
            case StartEvent(conversation_id=conversation_id):
                self._thread_id = self._thread_id or conversation_id
                return [{"type": "RUN_STARTED", **self._run()}]
            case StepStartEvent(step=str(step)) if step not in self._steps:
                self._steps.append(step)
                return [*self._close_text(), {"type": "STEP_STARTED", "stepName": step}]
            case StepEndEvent(step=str(step)) if step in self._steps:
                self._steps.remove(step)
                return [*self._close_text(), {"type": "STEP_FINISHED", "stepName": step}]
            case ToolCallEvent(call_id=call_id) if call_id not in self._tool_calls:
                self._tool_calls.add(call_id)
                return [*self._close_text(), *self._tool_call(event)]
            case ToolResultEvent():
                return [*self._close_text(), self._tool_result(event)]
            case ApprovalRequestEvent(call_id=call_id):
                self._interrupts.append(interrupt(event))
                return [] if call_id in self._tool_calls else self.payloads(announced_call(event))
            case ApprovalResultEvent() if not event.approved:
                return self.payloads(refused_result(event))
            case DocumentsEvent(documents=documents):
                self._documents.extend(document.model_dump() for document in documents)
            case TurnCompleteEvent(text=text) if text and not self._text_sent:
                return self._text(text)
            case UsageEvent():
                self.usage.add(event)
            case ErrorEvent(message=message, code=code):
                self.failed = True
                error = {"type": "RUN_ERROR", "message": message, "code": code}
                return [{**error, **run_usage(self.usage)}]
            case EndEvent():
                return self._finish(event)
        return []

    def _run(self) -> JsonObject:
        return {"threadId": self._thread_id or "", "runId": self._run_id}

    def _text(self, text: str) -> list[JsonObject]:
        self._text_sent = True
        opened: list[JsonObject] = []
        if self._message is None:
            opened = self._close_reasoning()
            self._message = new_id()
            opened.append(
                {"type": "TEXT_MESSAGE_START", "messageId": self._message, "role": "assistant"}
            )
            self._content = TextTemplate.of(_content(self._message, SLOT))
        return [*opened, _content(self._message, text)]

    def _close_text(self) -> list[JsonObject]:
        if self._message is None:
            return self._close_reasoning()
        message, self._message = self._message, None
        self._content = None
        return [{"type": "TEXT_MESSAGE_END", "messageId": message}]

    def _reason(self, text: str) -> list[JsonObject]:
        """Open a reasoning span and its one message unless open; add `text` to the message."""
        opened: list[JsonObject] = []
        if self._reasoning is None:
            opened = self._close_text()
            self._reasoning = message = new_id()
            opened += [
                {"type": "REASONING_START", "messageId": message},
                {"type": "REASONING_MESSAGE_START", "messageId": message, "role": "reasoning"},
            ]
        content = {"type": "REASONING_MESSAGE_CONTENT", "messageId": self._reasoning}
        return [*opened, {**content, "delta": text}]

    def _close_reasoning(self) -> list[JsonObject]:
        if self._reasoning is None:
            return []
        message, self._reasoning = self._reasoning, None
        return [
            {"type": "REASONING_MESSAGE_END", "messageId": message},
            {"type": "REASONING_END", "messageId": message},
        ]

    def _tool_call(self, event: ToolCallEvent) -> list[JsonObject]:
        call = {"toolCallId": event.call_id}
        arguments = event.arguments
        text = arguments if isinstance(arguments, str) else compact_json(arguments)
        payloads: list[JsonObject] = [
            {"type": "TOOL_CALL_START", **call, "toolCallName": event.name}
        ]
        if text:
            payloads.append({"type": "TOOL_CALL_ARGS", **call, "delta": text})
        return [*payloads, {"type": "TOOL_CALL_END", **call}]

    def _tool_result(self, event: ToolResultEvent) -> JsonObject:
        return {
            "type": "TOOL_CALL_RESULT",
            "messageId": new_id(),
            "toolCallId": event.call_id,
            "content": result_text(event),
            "role": "tool",
        }

    def _finish(self, end: EndEvent) -> list[JsonObject]:
        closing = self._close_text()
        steps = [{"type": "STEP_FINISHED", "stepName": step} for step in reversed(self._steps)]
        self._steps.clear()
        result = event_object(end)
        del result["chunk"]
        finished = {"type": "RUN_FINISHED", **self._run(), "result": result}
        if self._interrupts:
            finished["outcome"] = {"type": "interrupt", "interrupts": self._interrupts}
        return [*closing, *steps, {**finished, **run_usage(end)}]


class AgUiFormatter(Formatter):
    """AG-UI's events over SSE, as `@ag-ui/client`'s HttpAgent and CopilotKit read them."""

    name = "ag-ui"
    aliases = ("agui",)
    description = (
        "AG-UI protocol events (CopilotKit): RUN_STARTED, TEXT_MESSAGE_*, TOOL_CALL_*, "
        "RUN_FINISHED or RUN_ERROR"
    )

    error_ends_stream = True
    approvals: ClassVar[ApprovalChannel] = "request"

    def __init__(self, *, thread_id: str | None = None, run_id: str | None = None) -> None:
        self._events = RunEvents(thread_id=thread_id, run_id=run_id or new_id())

    def format(self, event: Event) -> list[FrameValue]:
        """Return one `data:` frame per AG-UI event; a comment for heartbeats."""
        if (text := self._events.text_json(event)) is not None:  # most events: one text delta
            return [data_frame(text)]
        if isinstance(event, HeartbeatEvent):
            return [KEEP_ALIVE]
        return [Frame(compact_json(payload)) for payload in self._events.payloads(event)]

    def closer(self) -> AgUiFormatter:
        """Return a fresh formatter that knows whether this run already ended with RUN_ERROR."""
        closer = AgUiFormatter()
        closer._events.failed = self._events.failed
        closer._events.usage = self._events.usage.copy()
        return closer


def _content(message_id: str, text: str) -> JsonObject:
    """Return the TEXT_MESSAGE_CONTENT event of a piece of the message's text."""
    return {"type": "TEXT_MESSAGE_CONTENT", "messageId": message_id, "delta": text}


def run_usage(counts: TokenCounts) -> JsonObject:
    """Return RUN_FINISHED's or RUN_ERROR's `usage`: the run's counts; nothing if unreported."""
    return {"usage": [camel_case_usage(counts)]} if reported(counts) else {}


APPROVAL_REASON = "tool_approval"
"""The `reason` of the interrupt that asks a person to approve a tool call."""
APPROVAL_SCHEMA: JsonObject = {
    "type": "object",
    "properties": {"approved": {"type": "boolean"}, "reason": {"type": "string"}},
    "required": ["approved"],
}
"""The `responseSchema` of an approval interrupt: the resume entry's `payload`."""


def interrupt(event: ApprovalRequestEvent) -> JsonObject:
    """Return the AG-UI `Interrupt` of an approval request; a resume entry answers it by `id`."""
    metadata: JsonObject = {"toolName": event.name, "arguments": arguments_object(event.arguments)}
    if event.server_label is not None:
        metadata["serverLabel"] = event.server_label
    return {
        "id": event.approval_id,
        "reason": APPROVAL_REASON,
        "message": event.description or f"Approve running the tool {event.name}?",
        "toolCallId": event.call_id,
        "responseSchema": APPROVAL_SCHEMA,
        "metadata": metadata,
    }


def result_text(event: ToolResultEvent) -> str:
    """Return a tool result's content as the one string AG-UI's TOOL_CALL_RESULT carries."""
    return content_text(event.content, "\n")
