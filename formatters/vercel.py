"""The `vercel` format: the AI SDK UI message stream protocol v1 (what `useChat` reads)."""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType
from typing import Any, ClassVar, Self

from formatters.base import ApprovalChannel, Formatter, Frame, FrameValue
from formatters.event_json import SLOT, TextTemplate, compact_json
from formatters.events import (
    ApprovalRequestEvent,
    ApprovalResultEvent,
    ContentItem,
    Document,
    DocumentsEvent,
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    JsonObject,
    ReasoningDeltaEvent,
    ShieldEvent,
    StartEvent,
    StepEndEvent,
    StepStartEvent,
    TextDeltaEvent,
    ToolCallDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnCompleteEvent,
    UsageEvent,
    content_text,
)
from formatters.finish import FinishReason
from formatters.frames import DONE, KEEP_ALIVE, data_frame
from formatters.usage import TokenCounts, UsageSoFar, camel_case_usage, reported

SHIELD_PART = "data-shield"
_AGENT_TOOL = MappingProxyType({"providerExecuted": True, "dynamic": True})
"""The agent runs its tools itself (clients must not), and clients have no types for them."""


class VercelFormatter(Formatter):
    """AI SDK UI message stream parts; ids tie each part to its text, reasoning or tool block."""

    name = "vercel"
    aliases = ("ai-sdk",)
    description = "Vercel AI SDK UI message stream protocol v1 (useChat)"
    headers = MappingProxyType({"x-vercel-ai-ui-message-stream": "v1"})
    approvals: ClassVar[ApprovalChannel] = "request"

    def __init__(self) -> None:
        self._step_open = False
        self._block: tuple[str, str] | None = None
        """The open text or reasoning block: its kind and id."""
        self._blocks = {"text": 0, "reasoning": 0}
        self._text_sent = False
        self._tool_inputs: dict[str, bool] = {}
        """Announced tool calls, and whether their input is complete."""
        self._sources: set[str] = set()
        self._finish_reason = FinishReason()
        self._text_delta: tuple[tuple[str, str], TextTemplate | None] | None = None
        """The open text block and its `text-delta` part, its delta left open."""
        self._usage = UsageSoFar()
        """The usage reported so far: `message-metadata` before an error says it (the AI SDK's
        chat reads nothing after an error part)."""

    def format(self, event: Event) -> list[FrameValue]:
        """Return the UI message stream frames for one event; `finish` and `[DONE]` come last.

        Heartbeats are the AI SDK's own keep-alive (`createUIMessageStreamResponse`).
        """
        if (text := self._text_json(event)) is not None:  # most events: one text delta
            return [data_frame(text)]
        if isinstance(event, HeartbeatEvent):
            return [KEEP_ALIVE]
        frames: list[FrameValue] = [Frame(compact_json(part)) for part in self._parts(event)]
        if isinstance(event, EndEvent):
            frames.append(DONE)
        return frames

    def closer(self) -> Self:
        """Return a fresh formatter that can close what this one opened.

        It carries the open step, the open text or reasoning block and the sources sent: an
        error closes the block, the end sends only new sources and closes the step.
        """
        fresh = type(self)()
        fresh._step_open = self._step_open
        fresh._block = self._block
        fresh._sources = set(self._sources)
        fresh._usage = self._usage.copy()
        return fresh

    def _text_json(self, event: Event) -> str | None:
        """Return a text delta's one part as JSON, written out; None unless a text block is open."""
        block = self._block
        if (
            type(event) is not TextDeltaEvent
            or not event.text
            or not self._step_open
            or block is None
            or block[0] != "text"
        ):
            return None
        cached = self._text_delta
        if cached is None or cached[0] is not block:
            part = {"type": "text-delta", "id": block[1], "delta": SLOT}
            cached = self._text_delta = (block, TextTemplate.of(part))
        if cached[1] is None:
            return None
        self._text_sent = True
        return cached[1].fill(event.text)

    def _parts(self, event: Event) -> list[JsonObject]:
        self._finish_reason.observe(event)
        match event:
            case StartEvent(conversation_id=conversation_id):
                return [{"type": "start", "messageMetadata": {"conversation_id": conversation_id}}]
            case StepStartEvent(step="inference"):
                return [*self._close_step(), *self._open_step()]
            case StepEndEvent(step="inference"):
                return self._close_block()
            case TextDeltaEvent(text=text) if text:
                self._text_sent = True
                return self._delta("text", text)
            case ReasoningDeltaEvent(text=text) if text:
                return self._delta("reasoning", text)
            case ToolCallDeltaEvent(call_id=str() as call_id, name=name, delta=delta):
                return self._tool_input_delta(call_id, name, delta)
            case ToolCallEvent(call_id=call_id, name=name, arguments=arguments):
                return self._tool_input(call_id, name, arguments)
            case ToolResultEvent():
                return self._tool_output(event)
            case ApprovalRequestEvent(call_id=call_id, approval_id=approval_id):
                request = {"type": "tool-approval-request", "approvalId": approval_id}
                call = self._tool_input(call_id, event.name, event.arguments)
                return [*call, {**request, "toolCallId": call_id}]
            case ApprovalResultEvent(call_id=call_id) if not event.approved:
                return [*self._close_block(), {"type": "tool-output-denied", "toolCallId": call_id}]
            case DocumentsEvent(documents=documents):
                return self._source_urls(documents)
            case ShieldEvent(violation=violation, step=step):
                data = None if violation is None else violation.model_dump(mode="json")
                return [{"type": SHIELD_PART, "data": {"step": step, "violation": data}}]
            case TurnCompleteEvent(text=text) if text and not self._text_sent:
                self._text_sent = True
                return [*self._delta("text", text), *self._close_block()]
            case UsageEvent():
                self._usage.add(event)
            case ErrorEvent(message=message):
                metadata = _usage_metadata(self._usage)
                usage = [{"type": "message-metadata", **metadata}] if metadata else []
                return [*self._close_block(), *usage, {"type": "error", "errorText": message}]
            case EndEvent():
                return [
                    *self._close_block(),
                    *self._source_urls(event.referenced_documents),
                    *self._close_step(),
                    {
                        "type": "finish",
                        "finishReason": self._finish_reason.of(event).replace("_", "-"),
                        **_usage_metadata(event),
                    },
                ]
        return []

    def _open_step(self) -> list[JsonObject]:
        if self._step_open:
            return []
        self._step_open = True
        return [{"type": "start-step"}]

    def _close_step(self) -> list[JsonObject]:
        if not self._step_open:
            return []
        self._step_open = False
        return [*self._close_block(), {"type": "finish-step"}]

    def _delta(self, kind: str, text: str) -> list[JsonObject]:
        parts = self._open_step()
        if self._block is None or self._block[0] != kind:
            parts += self._close_block()
            self._blocks[kind] += 1
            self._block = (kind, f"{kind}-{self._blocks[kind]}")
            parts.append({"type": f"{kind}-start", "id": self._block[1]})
        parts.append({"type": f"{kind}-delta", "id": self._block[1], "delta": text})
        return parts

    def _close_block(self) -> list[JsonObject]:
        if self._block is None:
            return []
        (kind, block_id), self._block = self._block, None
        return [{"type": f"{kind}-end", "id": block_id}]

    def _tool_input_delta(self, call_id: str, name: str | None, delta: str) -> list[JsonObject]:
        if call_id in self._tool_inputs:
            return [_input_delta(call_id, delta)]
        if name is None:
            return []
        return [*self._input_start(call_id, name), _input_delta(call_id, delta)]

    def _tool_input(self, call_id: str, name: str, arguments: JsonObject | str) -> list[JsonObject]:
        if self._tool_inputs.get(call_id):
            return []
        parts = []
        if call_id not in self._tool_inputs:
            text = arguments if isinstance(arguments, str) else compact_json(arguments)
            parts = [*self._input_start(call_id, name), _input_delta(call_id, text)]
        return [*parts, self._input_available(call_id, name, arguments)]

    def _input_start(self, call_id: str, name: str) -> list[JsonObject]:
        self._tool_inputs[call_id] = False
        part = {"type": "tool-input-start", "toolCallId": call_id, "toolName": name}
        return [*self._close_block(), *self._open_step(), {**part, **_AGENT_TOOL}]

    def _input_available(self, call_id: str, name: str, arguments: Any) -> JsonObject:
        self._tool_inputs[call_id] = True
        part = {"type": "tool-input-available", "toolCallId": call_id, "toolName": name}
        return {**part, "input": arguments, **_AGENT_TOOL}

    def _tool_output(self, event: ToolResultEvent) -> list[JsonObject]:
        call_id = event.call_id
        parts = self._close_block()
        if call_id not in self._tool_inputs:
            parts += self._input_start(call_id, event.name)
        if not self._tool_inputs[call_id]:
            parts.append(self._input_available(call_id, event.name, None))
        if event.failed:
            error = content_text(event.content, "\n")
            part = {"type": "tool-output-error", "toolCallId": call_id, "errorText": error}
        else:
            output = _content_json(event.content)
            part = {"type": "tool-output-available", "toolCallId": call_id, "output": output}
        return [*parts, {**part, **_AGENT_TOOL}]

    def _source_urls(self, documents: Iterable[Document]) -> list[JsonObject]:
        parts = []
        for document in documents:
            source_id = document.document_id or document.url
            if source_id in self._sources:
                continue
            self._sources.add(source_id)
            part = {"type": "source-url", "sourceId": source_id, "url": document.url}
            parts.append({**part, "title": document.title})
        return parts


def _usage_metadata(counts: TokenCounts) -> JsonObject:
    """Return a part's `messageMetadata` with the turn's usage; nothing if none was reported."""
    return {"messageMetadata": {"usage": camel_case_usage(counts)}} if reported(counts) else {}


def _input_delta(call_id: str, text: str) -> JsonObject:
    return {"type": "tool-input-delta", "toolCallId": call_id, "inputTextDelta": text}


def _content_json(content: str | list[ContentItem]) -> Any:
    if isinstance(content, str):
        return content
    return [item.model_dump(mode="json", exclude_none=True) for item in content]
