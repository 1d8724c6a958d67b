"""The `anthropic` format: Anthropic Messages stream events, as the Anthropic SDKs read them.

The agent runs its tools itself, so its tool calls and their results are server-side blocks
(`mcp_tool_use` / `mcp_tool_result`, as Anthropic's MCP connector sends them), never
`tool_use`, which a client would try to run. The conversation id rides in the `message` of
`message_start` as one extra key, `conversation_id`; the SDKs keep unknown keys.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any, ClassVar, Self

from formatters.approval_words import answer_note
from formatters.base import ApprovalChannel, Formatter, Frame, FrameValue
from formatters.event_json import SLOT, TextTemplate, compact_json
from formatters.events import (
    ApprovalResultEvent,
    ContentItem,
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    JsonObject,
    ReasoningDeltaEvent,
    ShieldEvent,
    StartEvent,
    TextDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnCompleteEvent,
    UsageEvent,
    content_text,
)
from formatters.usage import TokenCounts, UsageSoFar, reported

DEFAULT_MODEL = "llama-stack-agent"
"""The `model` of the message when the request named none (`/v1/streaming_query`)."""
SERVER_NAME = "agent"
"""The `server_name` of the agent's tool calls: the agent's own tool runtime."""
CONVERSATION_ID = "conversation_id"
"""Extra key of the `message` object: continue the agent conversation with it."""
_ERROR_TYPES = {"timeout": "timeout_error", "drained": "overloaded_error"}
"""Anthropic error types of the gateway's error codes; any other error is an `api_error`."""


def new_message_id() -> str:
    """Return a fresh `msg_` id."""
    return f"msg_{uuid.uuid4().hex}"


class MessageEvents:
    """Maps one turn's normalized events to Anthropic stream event payloads, in order."""

    def __init__(self, *, message_id: str, model: str) -> None:
        self._message_id = message_id
        self._model = model
        self._started = False
        self._blocks = 0
        self._text_block: int | None = None
        self._thinking_block: int | None = None
        """The open `thinking` block (the model's reasoning): closed when anything else starts."""
        self._text_sent = False
        self._tool_calls: set[str] = set()
        self._refused = False
        self._failed = False
        self._delta: TextTemplate | None = None
        """The open text block's `content_block_delta`, its text left open."""
        self.usage = UsageSoFar()
        """The usage reported so far: a failed turn's `message_delta` (before its error)."""

    def text_json(self, event: Event) -> str | None:
        """Return a text delta's one payload as JSON, written out; None unless a block is open."""
        if type(event) is not TextDeltaEvent or not event.text or self._delta is None:
            return None
        self._text_sent = True
        return self._delta.fill(event.text)

    def payloads(self, event: Event) -> list[JsonObject]:
        """Return the payloads for one event (each the `data:` of one frame named by its type)."""
        match event:
            case TextDeltaEvent(text=text) if text:
                return [*self._start(), *self._text(text)]
            case StartEvent(conversation_id=conversation_id):
                return self._start(conversation_id)
            case ReasoningDeltaEvent(text=text) if text:
                return [*self._start(), *self._thinking(text)]
            case ToolCallEvent(call_id=call_id) if call_id not in self._tool_calls:
                self._tool_calls.add(call_id)
                return [*self._start(), *self._close_text(), *self._tool_use(event)]
            case ToolResultEvent():
                return [*self._start(), *self._close_text(), *self._tool_result(event)]
            case ApprovalResultEvent() if not event.approved:
                return [*self._start(), *self._note(answer_note(event))]
            case ShieldEvent(violation=violation) if violation is not None:
                self._refused = True
            case TurnCompleteEvent(text=text) if text and not self._text_sent:
                return [*self._start(), *self._text(text)]
            case UsageEvent():
                self.usage.add(event)
            case ErrorEvent():
                self._failed = True
                return [*self._usage_so_far(), error_payload(event)]
            case EndEvent():
                return self._finish(event)
        return []

    def _usage_so_far(self) -> list[JsonObject]:
        """Return a failed message's `message_delta`: no stop reason yet, the usage so far."""
        if not self._started or not reported(self.usage):
            return []
        delta = {"stop_reason": None, "stop_sequence": None}
        return [{"type": "message_delta", "delta": delta, "usage": message_usage(self.usage)}]

    def closer(self) -> MessageEvents:
        """Return a fresh builder that closes this message: started or not, its usage so far."""
        closer = MessageEvents(message_id=self._message_id, model=self._model)
        closer._started = self._started
        closer.usage = self.usage.copy()
        return closer

    def _start(self, conversation_id: str | None = None) -> list[JsonObject]:
        if self._started:
            return []
        self._started = True
        message: JsonObject = {
            "id": self._message_id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        if conversation_id is not None:
            message[CONVERSATION_ID] = conversation_id
        return [{"type": "message_start", "message": message}]

    def _text(self, text: str) -> list[JsonObject]:
        self._text_sent = True
        opened: list[JsonObject] = []
        if self._text_block is None:
            opened = self._close_thinking()
            self._text_block = self._blocks
            opened.append(self._block_start({"type": "text", "text": ""}))
            self._delta = TextTemplate.of(_text_delta(self._text_block, SLOT))
        return [*opened, _text_delta(self._text_block, text)]

    def _note(self, text: str) -> list[JsonObject]:
        """Return a text of the gateway's own in a text block; the answer may still stream."""
        text_sent = self._text_sent
        payloads = self._text(text)
        self._text_sent = text_sent
        return payloads

    def _close_text(self) -> list[JsonObject]:
        if self._text_block is None:
            return self._close_thinking()
        self._delta = None
        index, self._text_block = self._text_block, None
        return [{"type": "content_block_stop", "index": index}]

    def _thinking(self, text: str) -> list[JsonObject]:
        """Open a `thinking` block unless one is open, and add `text` to it as a thinking_delta.

        The block's `signature` stays empty: Anthropic signs Claude's own thinking, and the
        SDKs need the key, not a value (no `signature_delta` is sent).
        """
        opened: list[JsonObject] = []
        if self._thinking_block is None:
            opened = self._close_text()
            self._thinking_block = self._blocks
            opened.append(self._block_start({"type": "thinking", "thinking": "", "signature": ""}))
        delta = {"type": "thinking_delta", "thinking": text}
        index = self._thinking_block
        return [*opened, {"type": "content_block_delta", "index": index, "delta": delta}]

    def _close_thinking(self) -> list[JsonObject]:
        if self._thinking_block is None:
            return []
        index, self._thinking_block = self._thinking_block, None
        return [{"type": "content_block_stop", "index": index}]

    def _tool_use(self, event: ToolCallEvent) -> list[JsonObject]:
        block = {
            "type": "mcp_tool_use",
            "id": event.call_id,
            "name": event.name,
            "server_name": SERVER_NAME,
            "input": {},
        }
        index = self._blocks
        delta = {"type": "input_json_delta", "partial_json": compact_json(tool_input(event))}
        return [
            self._block_start(block),
            {"type": "content_block_delta", "index": index, "delta": delta},
            {"type": "content_block_stop", "index": index},
        ]

    def _tool_result(self, event: ToolResultEvent) -> list[JsonObject]:
        block = {
            "type": "mcp_tool_result",
            "tool_use_id": event.call_id,
            "is_error": event.failed,
            "content": result_blocks(event.content),
        }
        index = self._blocks
        return [self._block_start(block), {"type": "content_block_stop", "index": index}]

    def _block_start(self, block: JsonObject) -> JsonObject:
        index = self._blocks
        self._blocks += 1
        return {"type": "content_block_start", "index": index, "content_block": block}

    def _finish(self, end: EndEvent) -> list[JsonObject]:
        stop: list[JsonObject] = [{"type": "message_stop"}]
        if self._failed:
            return stop
        delta = {"stop_reason": self._stop_reason(end), "stop_sequence": None}
        summary = {"type": "message_delta", "delta": delta, "usage": message_usage(end)}
        return [*self._start(), *self._close_text(), summary, *stop]

    def _stop_reason(self, end: EndEvent) -> str:
        if self._refused:
            return "refusal"
        if end.truncated:
            return "max_tokens"
        return "end_turn"


class AnthropicFormatter(Formatter):
    """Anthropic's streaming Messages API events, as the official Anthropic SDKs read them."""

    name = "anthropic"
    aliases = ("anthropic-messages",)
    description = (
        "Anthropic Messages stream events: message_start … message_stop, ping keep-alives "
        "(Anthropic SDKs)"
    )
    approvals: ClassVar[ApprovalChannel] = "none"

    def __init__(self, *, model: str = DEFAULT_MODEL, message_id: str | None = None) -> None:
        self._events = MessageEvents(message_id=message_id or new_message_id(), model=model)

    def format(self, event: Event) -> list[FrameValue]:
        """Return the frames for one event: `event: <type>` and its JSON; `ping` for heartbeats."""
        if (text := self._events.text_json(event)) is not None:  # most events: one text delta
            return [Frame(text, "content_block_delta")]
        if isinstance(event, HeartbeatEvent):
            return [PING]
        return [
            Frame(compact_json(payload), event=payload["type"])
            for payload in self._events.payloads(event)
        ]

    def closer(self) -> Self:
        """Return a formatter that closes this message: its usage so far, then its error."""
        closer = copy.copy(self)
        closer._events = self._events.closer()
        return closer


PING = Frame(compact_json({"type": "ping"}), event="ping")


def _text_delta(index: int, text: str) -> JsonObject:
    """Return the `content_block_delta` payload of a piece of text in block `index`."""
    delta = {"type": "text_delta", "text": text}
    return {"type": "content_block_delta", "index": index, "delta": delta}


class MessageAssembler:
    """Assembles stream event payloads into one `message` object, as the Anthropic SDKs do."""

    def __init__(self) -> None:
        self._message: JsonObject = {}
        self._json: dict[int, str] = {}
        self.error: JsonObject | None = None
        """The `error` object of an error payload, if one came."""

    def add(self, payload: JsonObject) -> None:
        """Take in one payload from MessageEvents."""
        match payload["type"]:
            case "message_start":
                self._message = json.loads(json.dumps(payload["message"]))
            case "content_block_start":
                self._message["content"].append(dict(payload["content_block"]))
            case "content_block_delta":
                self._add_delta(payload["index"], payload["delta"])
            case "content_block_stop" if payload["index"] in self._json:
                block = self._message["content"][payload["index"]]
                block["input"] = json.loads(self._json.pop(payload["index"]))
            case "message_delta":
                self._message.update(payload["delta"])
                self._message["usage"] = payload["usage"]
            case "error":
                self.error = payload["error"]

    def _add_delta(self, index: int, delta: JsonObject) -> None:
        if delta["type"] == "text_delta":
            self._message["content"][index]["text"] += delta["text"]
        elif delta["type"] == "thinking_delta":
            self._message["content"][index]["thinking"] += delta["thinking"]
        elif delta["type"] == "input_json_delta":
            self._json[index] = self._json.get(index, "") + delta["partial_json"]

    def message(self) -> JsonObject:
        """Return the `message` for everything added."""
        return self._message


def message_usage(counts: TokenCounts) -> JsonObject:
    """Return the `usage` of a `message_delta`: the message's token counts so far."""
    return {"input_tokens": counts.input_tokens, "output_tokens": counts.output_tokens}


def error_payload(event: ErrorEvent) -> JsonObject:
    """Return the `error` event's payload, which the Anthropic SDKs raise as an APIStatusError."""
    kind = _ERROR_TYPES.get(event.code, "api_error")
    return {"type": "error", "error": {"type": kind, "message": event.message}}


def tool_input(event: ToolCallEvent) -> JsonObject:
    """Return a tool call's arguments as the JSON object Anthropic's `input` must be."""
    arguments: Any = event.arguments
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return {"arguments": event.arguments}
    return arguments if isinstance(arguments, dict) else {"arguments": arguments}


def result_blocks(content: str | list[ContentItem]) -> list[JsonObject]:
    """Return a tool result's content as text blocks (an image as the text `<image>`)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [{"type": "text", "text": content_text([item])} for item in content]
