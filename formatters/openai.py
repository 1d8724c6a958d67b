"""The `openai` format: OpenAI `chat.completion.chunk` frames, then `data: [DONE]`.

The answer is the assistant content. The agent's own tool activity never becomes `tool_calls`
(a client would run those tools again): each complete tool call, its result, documents, shield
verdicts, the conversation id and the end summary ride in one extra top-level key,
`gateway_event`, of a chunk whose delta is empty: the normalized event as the `raw` format sends
it. OpenAI SDKs keep unknown keys without acting on them, and an empty delta adds nothing to the
answer. Only calls of the client's own functions (`client_tools`) that the turn paused for are
`tool_calls`, with ids that name their conversation (`formatters.call_ids`).
"""

from __future__ import annotations

import time
import uuid
from typing import Any, ClassVar, Self

from formatters.approval_words import answer_note
from formatters.base import ApprovalChannel, Formatter, Frame, FrameValue
from formatters.call_ids import client_call_id
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
    ShieldEvent,
    StartEvent,
    TextDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnAwaitingInputEvent,
    TurnCompleteEvent,
    UsageEvent,
)
from formatters.finish import FinishReason
from formatters.frames import DONE, KEEP_ALIVE, data_frame
from formatters.usage import TokenCounts, UsageSoFar, reported, total_tokens

GATEWAY_EVENT = "gateway_event"
"""Top-level chunk key that carries a normalized event OpenAI has no field for."""
GATEWAY_EVENTS = "gateway_events"
"""Top-level key of a non-streamed `chat.completion`: every `gateway_event`, in order."""
DEFAULT_MODEL = "llama-stack-agent"
"""The `model` of chunks when the request named none (`/v1/streaming_query`)."""
REASONING_CONTENT = "reasoning_content"
"""Delta (and message) key of the model's reasoning, as DeepSeek, vLLM and LiteLLM name it."""
RUN_STEP = "tool_execution"
"""The step of a tool call the agent ran itself (see `ToolCallEvent`)."""


def new_completion_id() -> str:
    """Return a fresh `chatcmpl-` id."""
    return f"chatcmpl-{uuid.uuid4().hex}"


class ChunkBuilder:
    """Maps one turn's normalized events to chunk payloads (and an error payload), in order.

    A call of one of `client_tools` that the agent did not run before the turn paused for input
    is the client's to run: it goes out as `tool_calls` when the turn pauses, and only then does
    the turn finish with `tool_calls`.
    """

    def __init__(
        self,
        *,
        completion_id: str,
        created: int,
        model: str,
        include_usage: bool,
        client_tools: frozenset[str] = frozenset(),
    ) -> None:
        self._head: JsonObject = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
        }
        self._include_usage = include_usage
        self._client_tools = client_tools
        self._conversation_id = ""
        self._unrun: dict[str, ToolCallEvent] = {}
        """Calls of client tools the model made and the agent has not run, by call id."""
        self._text_sent = False
        self._finish_reason = FinishReason()
        self._text_chunk = TextTemplate.of(self._chunk({"content": SLOT}))
        self.usage = UsageSoFar()
        """The usage reported so far: a failed turn's usage chunk (before its error) says it."""

    def text_json(self, event: Event) -> str | None:
        """Return the chunk of a text delta as JSON, written out; None for any other event."""
        if type(event) is not TextDeltaEvent or not event.text or self._text_chunk is None:
            return None
        self._text_sent = True
        return self._text_chunk.fill(event.text)

    def payloads(self, event: Event) -> list[JsonObject]:
        """Return the JSON payloads for one event (`data:` of one frame each)."""
        match event:
            case StartEvent(conversation_id=conversation_id):
                self._conversation_id = conversation_id
                return [self._chunk({"role": "assistant", "content": ""}, extension=event)]
            case TextDeltaEvent(text=text) if text:
                self._text_sent = True
                return [self._chunk({"content": text})]
            case ReasoningDeltaEvent(text=text) if text:
                return [self._chunk({REASONING_CONTENT: text})]
            case ToolCallEvent():
                self._track(event)
                return [self._chunk({}, extension=event)]
            case ToolResultEvent(call_id=call_id):
                self._unrun.pop(call_id, None)
                return [self._chunk({}, extension=event)]
            case ShieldEvent() | DocumentsEvent():
                self._finish_reason.observe(event)
                return [self._chunk({}, extension=event)]
            case ApprovalRequestEvent() | ApprovalResultEvent(decision="approved"):
                return [self._chunk({}, extension=event)]
            case ApprovalResultEvent():  # the tool did not run: the answer says so
                return [self._chunk({"content": answer_note(event)}, extension=event)]
            case TurnAwaitingInputEvent():
                return [*self._hand_over(event), self._chunk({}, extension=event)]
            case TurnCompleteEvent(text=text) if text and not self._text_sent:
                self._text_sent = True
                return [self._chunk({"content": text})]
            case UsageEvent():
                self.usage.add(event)
            case ErrorEvent():
                self._finish_reason.observe(event)
                failed_usage = self._usage_chunk(self.usage) if reported(self.usage) else []
                return [*failed_usage, error_payload(event)]
            case EndEvent() if not self._finish_reason.failed:
                return self._finish(event)
        return []

    def _track(self, call: ToolCallEvent) -> None:
        if call.step == RUN_STEP:
            self._unrun.pop(call.call_id, None)
        elif call.name in self._client_tools:
            self._unrun.setdefault(call.call_id, call)

    def _hand_over(self, awaiting: TurnAwaitingInputEvent) -> list[JsonObject]:
        """Return the chunk of the client's tool calls the turn paused for (none if none)."""
        if not self._unrun:
            return []  # nothing the client can answer: the turn finishes as if it ended
        self._finish_reason.observe(awaiting)
        calls = [
            {
                "index": index,
                "id": client_call_id(self._conversation_id, call.call_id),
                "type": "function",
                "function": {"name": call.name, "arguments": _arguments_text(call.arguments)},
            }
            for index, call in enumerate(self._unrun.values())
        ]
        self._unrun.clear()
        return [self._chunk({"tool_calls": calls})]

    def _finish(self, end: EndEvent) -> list[JsonObject]:
        chunks = [self._chunk({}, finish_reason=self._finish_reason.of(end), extension=end)]
        return [*chunks, *self._usage_chunk(end)]

    def _usage_chunk(self, counts: TokenCounts) -> list[JsonObject]:
        """Return the last chunk of an `include_usage` stream (a failed one: before its error)."""
        if not self._include_usage:
            return []
        return [{**self._head, "choices": [], "usage": usage(counts)}]

    def _chunk(
        self, delta: JsonObject, *, finish_reason: str | None = None, extension: Event | None = None
    ) -> JsonObject:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        chunk: JsonObject = {**self._head, "choices": [choice]}
        if self._include_usage:
            chunk["usage"] = None
        if extension is not None:
            chunk[GATEWAY_EVENT] = event_object(extension)
        return chunk


class OpenAIFormatter(Formatter):
    """OpenAI's streaming chat completions, as the official OpenAI SDKs read them."""

    name = "openai"
    aliases = ("chat-completions",)
    description = "OpenAI chat.completion.chunk frames, then data: [DONE] (OpenAI SDKs)"
    approvals: ClassVar[ApprovalChannel] = "none"

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        include_usage: bool = False,
        completion_id: str | None = None,
        created: int | None = None,
        client_tools: frozenset[str] = frozenset(),
    ) -> None:
        self._model = model
        self._include_usage = include_usage
        self._completion_id = completion_id or new_completion_id()
        self._created = int(time.time()) if created is None else created
        self._client_tools = client_tools
        self._chunks = ChunkBuilder(
            completion_id=self._completion_id,
            created=self._created,
            model=model,
            include_usage=include_usage,
            client_tools=client_tools,
        )

    def format(self, event: Event) -> list[FrameValue]:
        """Return the chunk frames for one event; a comment for heartbeats; `[DONE]` last."""
        if (text := self._chunks.text_json(event)) is not None:  # most events: one text delta
            return [data_frame(text)]
        if isinstance(event, HeartbeatEvent):
            return [KEEP_ALIVE]
        frames: list[FrameValue] = [
            Frame(compact_json(payload)) for payload in self._chunks.payloads(event)
        ]
        if isinstance(event, EndEvent):
            frames.append(DONE)
        return frames

    def closer(self) -> Self:
        """Return a fresh formatter of the same completion (id, created, model, usage).

        Its closing frames depend on the usage reported so far (the usage chunk before the
        error payload) and on nothing sent before.
        """
        closer = type(self)(
            model=self._model,
            include_usage=self._include_usage,
            completion_id=self._completion_id,
            created=self._created,
            client_tools=self._client_tools,
        )
        closer._chunks.usage = self._chunks.usage.copy()
        return closer


class CompletionBuilder:
    """Assembles chunk payloads into one `chat.completion` object, as the OpenAI SDKs do."""

    def __init__(self) -> None:
        self._head: JsonObject = {}
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._tool_calls: dict[int, JsonObject] = {}
        self._finish_reason = "stop"
        self._usage: JsonObject = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        self._extensions: list[JsonObject] = []
        self.error: JsonObject | None = None
        """The `error` object of an error payload, if one came."""

    def add(self, payload: JsonObject) -> None:
        """Take in one payload from ChunkBuilder."""
        if "error" in payload:
            self.error = payload["error"]
            return
        if not self._head:
            self._head = {key: payload[key] for key in ("id", "created", "model")}
        if payload.get("usage"):
            self._usage = payload["usage"]
        if GATEWAY_EVENT in payload:
            self._extensions.append(payload[GATEWAY_EVENT])
        for choice in payload["choices"]:
            self._add_delta(choice["delta"])
            if choice["finish_reason"]:
                self._finish_reason = choice["finish_reason"]

    def _add_delta(self, delta: JsonObject) -> None:
        if delta.get("content"):
            self._content.append(delta["content"])
        if delta.get(REASONING_CONTENT):
            self._reasoning.append(delta[REASONING_CONTENT])
        for call in delta.get("tool_calls", ()):
            entry = self._tool_calls.setdefault(call["index"], _empty_tool_call())
            entry["id"] = call.get("id", entry["id"])
            function = call.get("function", {})
            entry["function"]["name"] += function.get("name", "")
            entry["function"]["arguments"] += function.get("arguments", "")

    def completion(self) -> JsonObject:
        """Return the `chat.completion` for everything added."""
        content = "".join(self._content)
        message: JsonObject = {"role": "assistant", "content": content, "refusal": None}
        if self._reasoning:
            message[REASONING_CONTENT] = "".join(self._reasoning)
        if self._tool_calls:
            message["content"] = content or None
            message["tool_calls"] = [self._tool_calls[index] for index in sorted(self._tool_calls)]
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": self._finish_reason,
        }
        return {
            "id": self._head.get("id", ""),
            "object": "chat.completion",
            "created": self._head.get("created", 0),
            "model": self._head.get("model", ""),
            "choices": [choice],
            "usage": self._usage,
            GATEWAY_EVENTS: self._extensions,
        }


def usage(counts: TokenCounts) -> JsonObject:
    """Return OpenAI's `usage` object for the turn's token counts."""
    return {
        "prompt_tokens": counts.input_tokens,
        "completion_tokens": counts.output_tokens,
        "total_tokens": total_tokens(counts),
    }


def error_payload(event: ErrorEvent) -> JsonObject:
    """Return the error payload the OpenAI SDKs raise as an `APIError` mid-stream."""
    return {
        "error": {
            "message": event.message,
            "type": "server_error",
            "param": None,
            "code": event.code,
        }
    }


def _empty_tool_call() -> JsonObject:
    return {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}


def _arguments_text(arguments: dict[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else compact_json(arguments)
