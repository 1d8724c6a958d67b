"""The `lightspeed-0.1` format: lightspeed-stack 0.1.x's `/v1/streaming_query` frames, exactly."""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any, ClassVar, Self

from formatters.approval_words import approval_required, refused_result
from formatters.base import ApprovalChannel, Formatter, Frame, FrameValue
from formatters.events import (
    ApprovalRequestEvent,
    ApprovalResultEvent,
    ContentItem,
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    ShieldEvent,
    StartEvent,
    StepStartEvent,
    TextDeltaEvent,
    ToolCallDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnAwaitingInputEvent,
    TurnCompleteEvent,
    TurnStartEvent,
)
from formatters.frames import data_frame
from formatters.gateway_errors import is_gateway_error, title
from formatters.pyrepr import (
    arguments_repr,
    content_repr,
    interleaved_text,
    knowledge_search_summary,
    metadata_repr,
)

_TOOL_EXECUTION = "tool_execution"


class Lightspeed01Formatter(Formatter):
    """lightspeed-stack 0.1.3's SSE dialect (PR #254): every field a string, each with a role."""

    name = "lightspeed-0.1"
    description = "lightspeed-stack 0.1.x /v1/streaming_query frames, byte for byte"
    reports_usage: ClassVar[bool] = False
    """Whether `end` carries the turn's token counts: 0.1.3 and 0.2.0 send the placeholders
    `0` and `0` whatever the turn used, and so do their dialects."""
    approvals: ClassVar[ApprovalChannel] = "route"

    def __init__(self) -> None:
        self._written = 0
        self._id = 0
        self._chunk: int | None = None

    def format(self, event: Event) -> list[FrameValue]:
        """Return the lightspeed frames for one event.

        `id` counts the frames written before the upstream chunk that produced the event, so
        frames of one chunk share it; `start` and `end` carry no id and are not counted.
        """
        if event.chunk is None or event.chunk != self._chunk:
            self._id = self._written
        self._chunk = event.chunk
        frames = self._frames(event)
        # `type(...) is` first: isinstance on a pydantic model class goes through ABCMeta
        if type(event) is TextDeltaEvent or not isinstance(event, StartEvent | EndEvent):
            self._written += len(frames)
        return frames

    def closer(self) -> Self:
        """Return a fresh formatter that counts on from this one's frames.

        The count is the only state closing frames depend on: the `id` of the gateway's error
        frame is the number of frames written before it.
        """
        fresh = type(self)()
        fresh._written = self._written
        return fresh

    def _frames(self, event: Event) -> list[FrameValue]:
        if type(event) is TextDeltaEvent:  # most events of a turn: skip the match below
            return [self._token("token", event.text, event.step or "inference")]
        match event:
            case StartEvent(conversation_id=conversation_id):
                return [frame("start", {"conversation_id": conversation_id})]
            case TurnStartEvent() | TurnAwaitingInputEvent():
                return [self._token("token", "")]
            case StepStartEvent(step="inference"):
                return [self._token("token", "", "inference")]
            case StepStartEvent(step="tool_execution"):
                return [self._token("tool_call", "", _TOOL_EXECUTION)]
            case TextDeltaEvent(text=text, step=step):
                return [self._token("token", text, step or "inference")]
            case ToolCallDeltaEvent(delta=delta, step=step):
                return [self._token("tool_call", delta, step or "inference")]
            case ToolCallEvent(step="tool_execution", name=name, arguments=arguments):
                token = f"Tool:{name} arguments:{arguments_repr(arguments)}"
                return [self._token("tool_call", token, _TOOL_EXECUTION)]
            case ToolCallEvent(name=name, step=step):
                return [self._token("tool_call", name, step or "inference")]
            case ToolResultEvent(name=name, content=content, step=step):
                token = _tool_result_token(name, content)
                return [self._token("tool_call", token, step or _TOOL_EXECUTION)]
            case ApprovalRequestEvent():
                return [frame("approval_required", approval_required(event))]
            case ApprovalResultEvent() if not event.approved:
                return self._frames(refused_result(event))  # lightspeed-service: a failed result
            case ShieldEvent(violation=None):
                return [self._token("token", "No Violation", "shield_call")]
            case ShieldEvent(violation=violation) if violation is not None:
                token = (
                    f"Violation: {violation.user_message} "
                    f"(Metadata: {metadata_repr(violation.metadata)})"
                )
                return [self._token("token", token, "shield_call")]
            case TurnCompleteEvent(text=text):
                return [self._token("turn_complete", text)]
            case ErrorEvent() if is_gateway_error(event):
                return [self._gateway_error(event)]
            case ErrorEvent(message=message):
                return [self._token("error", message)]
            case HeartbeatEvent():
                return [self._token("heartbeat", "heartbeat")]
            case EndEvent():
                return [end_frame(event if self.reports_usage else placeholder_counts(event))]
            case _:
                return []

    def _gateway_error(self, event: ErrorEvent) -> Frame:
        """Return the `error` frame of the gateway's own error: `{id, token, response, cause}`.

        `id` and `token` as every lightspeed `error` frame has them (older readers show
        `token`); `response` (a short title) and `cause` (the message) as lightspeed-stack's
        later error frames and the Ansible Lightspeed chatbot's alert read them.
        """
        message = event.message
        data = {"id": self._id, "token": message, "response": title(event), "cause": message}
        return frame("error", data)

    def _token(self, name: str, token: str, role: str | None = None) -> Frame:
        """`frame(name, {"id": ..., "role": ..., "token": ...})`, written out (`token_frame`)."""
        return token_frame(name, self._id, token, role)


def token_frame(name: str, frame_id: int, token: str, role: str | None = None) -> Frame:
    """`frame(name, {"id": frame_id, "role": role, "token": token})`, written out; no role if None.

    The same bytes `json.dumps` makes of that dict (default separators, ensure_ascii: its
    strings go through `encode_basestring_ascii`, its int through `int.__repr__`), without
    walking a dict: tests/formatters/test_lightspeed_01_token_frames.py holds them equal.
    """
    role_field = "" if role is None else f'"role": {encode_basestring_ascii(role)}, '
    return data_frame(
        f'{{"event": {encode_basestring_ascii(name)}, "data": {{"id": {frame_id!r}, '
        f'{role_field}"token": {encode_basestring_ascii(token)}}}}}'
    )


def frame(name: str, data: dict[str, Any]) -> Frame:
    """One lightspeed frame: `data: {"event": name, "data": data}` as `json.dumps` writes it."""
    return Frame(json.dumps({"event": name, "data": data}))


def end_frame(event: EndEvent, first: dict[str, Any] | None = None) -> Frame:
    """Return the `end` frame; `first`: fields a later release puts before its documents."""
    payload = {
        "event": "end",
        "data": {
            **(first or {}),
            "referenced_documents": [
                {"doc_url": doc.url, "doc_title": doc.title} for doc in event.referenced_documents
            ],
            "truncated": event.truncated,
            "input_tokens": event.input_tokens,
            "output_tokens": event.output_tokens,
        },
        "available_quotas": {},
    }
    return Frame(json.dumps(payload))


def placeholder_counts(event: EndEvent) -> EndEvent:
    """Return the end event with the token counts 0.1.3 and 0.2.0 send: `0` and `0`."""
    return event.model_copy(update={"input_tokens": 0, "output_tokens": 0})


def _tool_result_token(name: str, content: str | list[ContentItem]) -> str:
    if name == "query_from_memory":
        return f"Fetched {len(interleaved_text(content))} bytes from memory"
    if name == "knowledge_search" and content:
        return f"Tool:knowledge_search summary:{knowledge_search_summary(content)}"
    return f"Tool:{name} response:{content_repr(content)}"
