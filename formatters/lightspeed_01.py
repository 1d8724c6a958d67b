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
_string = encode_basestring_ascii
_INFERENCE_ROLE = _string("inference")
_new_frame = tuple.__new__


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
        chunk = event.chunk
        if chunk is None or chunk != self._chunk:
            self._id = self._written
        self._chunk = chunk
        # `type(...) is`: isinstance on a pydantic model class goes through ABCMeta
        if type(event) is TextDeltaEvent:  # most events of a turn: straight to its frames
            frames = self._text_delta(event)
        else:
            frames = self._frames(event)
            if type(event) is StartEvent or type(event) is EndEvent:  # their frames are not counted
                return frames
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

    def _text_delta(self, event: TextDeltaEvent) -> list[FrameValue]:
        """Return the frames of a piece of the answer (most events of a turn): one `token`."""
        step = event.step
        role = _INFERENCE_ROLE if not step or step == "inference" else _string(step)
        return [
            _new_frame(
                Frame,
                (
                    f'{{"event": "token", "data": {{"id": {self._id!r}, "role": {role}, '
                    f'"token": {_string(event.text)}}}}}',
                    None,
                    None,
                ),
            )
        ]

    def _frames(self, event: Event) -> list[FrameValue]:
        match event:
            # each event class is one case or a run of them (the order within a run matters):
            # the match tries them in turn, so those of every turn and every heartbeat go first
            case StartEvent(conversation_id=conversation_id):
                return [start_frame(conversation_id)]
            case HeartbeatEvent():
                return [self._token("heartbeat", "heartbeat")]
            case EndEvent():
                return [end_frame(event, counts=self.reports_usage)]
            case TurnCompleteEvent(text=text):
                return [self._token("turn_complete", text)]
            case TurnStartEvent() | TurnAwaitingInputEvent():
                return [self._token("token", "")]
            case StepStartEvent(step="inference"):
                return [self._token("token", "", "inference")]
            case StepStartEvent(step="tool_execution"):
                return [self._token("tool_call", "", _TOOL_EXECUTION)]
            case TextDeltaEvent():
                return self._text_delta(event)
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
            case ErrorEvent() if is_gateway_error(event):
                return [self._gateway_error(event)]
            case ErrorEvent(message=message):
                return [self._token("error", message)]
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
    role_field = "" if role is None else f'"role": {_string(role)}, '
    data = (
        f'{{"event": {_string(name)}, "data": {{"id": {frame_id!r}, '
        f'{role_field}"token": {_string(token)}}}}}'
    )
    return _new_frame(Frame, (data, None, None))  # data_frame(data), one call less a token


def start_frame(conversation_id: str) -> Frame:
    """`frame("start", {"conversation_id": conversation_id})`, written out as `token_frame` is."""
    return data_frame(
        f'{{"event": "start", "data": {{"conversation_id": {_string(conversation_id)}}}}}'
    )


def frame(name: str, data: dict[str, Any]) -> Frame:
    """One lightspeed frame: `data: {"event": name, "data": data}` as `json.dumps` writes it."""
    return data_frame(json.dumps({"event": name, "data": data}))


def end_frame(
    event: EndEvent, first: dict[str, Any] | None = None, *, counts: bool = True
) -> Frame:
    """Return the `end` frame; `first`: fields a later release puts before its documents.

    `counts` False: the token counts 0.1.3 and 0.2.0 send, `0` and `0`, whatever the turn used.
    """
    payload = {
        "event": "end",
        "data": {
            **(first or {}),
            "referenced_documents": [
                {"doc_url": doc.url, "doc_title": doc.title} for doc in event.referenced_documents
            ],
            "truncated": event.truncated,
            "input_tokens": event.input_tokens if counts else 0,
            "output_tokens": event.output_tokens if counts else 0,
        },
        "available_quotas": {},
    }
    return data_frame(json.dumps(payload))


def _tool_result_token(name: str, content: str | list[ContentItem]) -> str:
    if name == "query_from_memory":
        return f"Fetched {len(interleaved_text(content))} bytes from memory"
    if name == "knowledge_search" and content:
        return f"Tool:knowledge_search summary:{knowledge_search_summary(content)}"
    return f"Tool:{name} response:{content_repr(content)}"
