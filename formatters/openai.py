"""The `openai` format: OpenAI `chat.completion.chunk` frames, then `data: [DONE]`.

What OpenAI's chunks have no field for (the conversation id, tool results, shield verdicts,
referenced documents, the end summary) rides in one extra top-level key, `gateway_event`, of a
chunk whose delta is empty: the normalized event as the `raw` format sends it. OpenAI SDKs keep
unknown keys without acting on them, and an empty delta adds nothing to the answer.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Self

from formatters.base import Formatter, Frame, FrameValue
from formatters.event_json import compact_json, event_object
from formatters.events import (
    DocumentsEvent,
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    JsonObject,
    ShieldEvent,
    StartEvent,
    TextDeltaEvent,
    ToolCallDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnCompleteEvent,
)
from formatters.finish import FinishReason
from formatters.frames import DONE, KEEP_ALIVE

GATEWAY_EVENT = "gateway_event"
"""Top-level chunk key that carries a normalized event OpenAI has no field for."""
GATEWAY_EVENTS = "gateway_events"
"""Top-level key of a non-streamed `chat.completion`: every `gateway_event`, in order."""
DEFAULT_MODEL = "llama-stack-agent"
"""The `model` of chunks when the request named none (`/v1/streaming_query`)."""


def new_completion_id() -> str:
    """Return a fresh `chatcmpl-` id."""
    return f"chatcmpl-{uuid.uuid4().hex}"


class ChunkBuilder:
    """Maps one turn's normalized events to chunk payloads (and an error payload), in order."""

    def __init__(
        self, *, completion_id: str, created: int, model: str, include_usage: bool
    ) -> None:
        self._head: JsonObject = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
        }
        self._include_usage = include_usage
        self._tool_calls: dict[str, int] = {}
        self._text_sent = False
        self._finish_reason = FinishReason()

    def payloads(self, event: Event) -> list[JsonObject]:
        """Return the JSON payloads for one event (`data:` of one frame each)."""
        self._finish_reason.observe(event)
        match event:
            case StartEvent():
                return [self._chunk({"role": "assistant", "content": ""}, extension=event)]
            case TextDeltaEvent(text=text) if text:
                self._text_sent = True
                return [self._chunk({"content": text})]
            case ToolCallDeltaEvent(call_id=str()):
                return self._tool_call_delta(event)
            case ToolCallEvent(call_id=call_id) if call_id not in self._tool_calls:
                arguments = _arguments_text(event.arguments)
                return [self._announce(call_id, event.name, arguments)]
            case ShieldEvent() | ToolResultEvent() | DocumentsEvent():
                return [self._chunk({}, extension=event)]
            case TurnCompleteEvent(text=text) if text and not self._text_sent:
                self._text_sent = True
                return [self._chunk({"content": text})]
            case ErrorEvent():
                return [error_payload(event)]
            case EndEvent() if not self._finish_reason.failed:
                return self._finish(event)
        return []

    def _tool_call_delta(self, event: ToolCallDeltaEvent) -> list[JsonObject]:
        assert event.call_id is not None
        index = self._tool_calls.get(event.call_id)
        if index is not None:
            call = {"index": index, "function": {"arguments": event.delta}}
            return [self._chunk({"tool_calls": [call]})]
        if event.name is None:
            return []
        return [self._announce(event.call_id, event.name, event.delta)]

    def _announce(self, call_id: str, name: str, arguments: str) -> JsonObject:
        index = self._tool_calls[call_id] = len(self._tool_calls)
        call = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
        return self._chunk({"tool_calls": [call]})

    def _finish(self, end: EndEvent) -> list[JsonObject]:
        chunks = [self._chunk({}, finish_reason=self._finish_reason.of(end), extension=end)]
        if self._include_usage:
            chunks.append({**self._head, "choices": [], "usage": usage(end)})
        return chunks

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

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        include_usage: bool = False,
        completion_id: str | None = None,
        created: int | None = None,
    ) -> None:
        self._model = model
        self._include_usage = include_usage
        self._completion_id = completion_id or new_completion_id()
        self._created = int(time.time()) if created is None else created
        self._chunks = ChunkBuilder(
            completion_id=self._completion_id,
            created=self._created,
            model=model,
            include_usage=include_usage,
        )

    def format(self, event: Event) -> list[FrameValue]:
        """Return the chunk frames for one event; a comment for heartbeats; `[DONE]` last."""
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

        Its closing frames depend on nothing sent before: an error payload, then `[DONE]`.
        """
        return type(self)(
            model=self._model,
            include_usage=self._include_usage,
            completion_id=self._completion_id,
            created=self._created,
        )


class CompletionBuilder:
    """Assembles chunk payloads into one `chat.completion` object, as the OpenAI SDKs do."""

    def __init__(self) -> None:
        self._head: JsonObject = {}
        self._content: list[str] = []
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


def usage(end: EndEvent) -> JsonObject:
    """Return OpenAI's `usage` object for the turn's token counts."""
    return {
        "prompt_tokens": end.input_tokens,
        "completion_tokens": end.output_tokens,
        "total_tokens": end.input_tokens + end.output_tokens,
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
