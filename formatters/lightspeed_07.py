"""The `lightspeed-0.7` format: lightspeed-stack 0.7.1's `/v1/streaming_query` frames."""

from __future__ import annotations

import json
import uuid
from typing import Any, ClassVar, Self

from formatters.approval_words import approval_required, refused_result
from formatters.base import ApprovalChannel, Comment, Formatter, Frame, FrameValue
from formatters.events import (
    ApprovalRequestEvent,
    ApprovalResultEvent,
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    JsonObject,
    ReasoningDeltaEvent,
    StartEvent,
    StepStartEvent,
    TextDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnCompleteEvent,
)
from formatters.gateway_errors import is_gateway_error, title
from formatters.lightspeed_01 import token_frame
from formatters.pyrepr import interleaved_text

UPSTREAM_ERROR_RESPONSE = "Error while processing query"
"""0.7.1's `response` for a turn the upstream failed (its `cause` is a generic sentence; ours
is the upstream's message, as every format's error frame carries it)."""

INTERRUPTED_SUFFIX = "\n\n*Response stopped by the user.*"
"""The token 0.7.1 appends to an interrupted answer, before its `interrupted` frame."""

GATEWAY_STATUS = {"timeout": 504, "drained": 503, "too_large": 413}
"""The `status_code` of a gateway error's frame by its code; any other code is 500."""

TOOL_EXECUTION = "tool_execution"
_SERVER_TOOLS = {"file_search": "file_search_call", "web_search": "web_search_call"}


def call_type(event: ToolCallEvent | ToolResultEvent) -> str:
    """Return the Responses item type 0.7.1 names a call by: a built-in tool, MCP, a function."""
    if event.name in _SERVER_TOOLS:
        return _SERVER_TOOLS[event.name]
    return "mcp_call" if event.step == TOOL_EXECUTION else "function_call"


class Lightspeed07Formatter(Formatter):
    """lightspeed-stack 0.7.1's SSE dialect, the frames of its pydantic-ai agent run.

    `start{conversation_id, request_id}`, numbered `token`s, `tool_call{id, name, args, type}`,
    `tool_result{id, status, content, type, round}`, `turn_complete`,
    `error{status_code, response, cause}`, `interrupted{request_id}`, `end{...}` with
    `available_quotas`; the model's reasoning as openshift/lightspeed-service's
    `reasoning{id, reasoning}` (numbered with the tokens), which 0.7.1 never sends.
    """

    name = "lightspeed-0.7"
    description = "lightspeed-stack 0.7.x /v1/streaming_query frames, byte for byte"
    approvals: ClassVar[ApprovalChannel] = "route"

    def __init__(self) -> None:
        self.request_id = str(uuid.uuid4())
        """This stream's request id (0.7.1: a fresh UUID per request, sent in `start`)."""
        self._id = 0
        self._calls: set[str] = set()
        self._round = 1
        self._result_seen = False
        self._asked: ToolCallEvent | None = None
        """A call the model asked for, until the next event tells whether the server runs it."""

    def format(self, event: Event) -> list[FrameValue]:
        """Return the frames for one event; the gateway's own heartbeats are SSE comments.

        An upstream event the gateway does not understand (a chunk's heartbeat) is nothing, as
        0.7.1 ignores the stream events it does not handle. A call the model asks for is sent
        with the next event: a tool step starting right after it (same chunk) means the server
        runs it (an MCP call), anything else a function call.
        """
        if self._asked is None:
            return self._frames(event)
        asked, self._asked = self._asked, None
        if (
            type(event) is StepStartEvent
            and event.step == TOOL_EXECUTION
            and event.chunk == asked.chunk
        ) or _asks_approval(event, asked):
            asked = asked.model_copy(update={"step": TOOL_EXECUTION})
        return [*self._call(asked), *self._frames(event)]

    def _frames(self, event: Event) -> list[FrameValue]:
        if type(event) is TextDeltaEvent:
            return [self._numbered("token", event.text)]
        match event:
            case StartEvent(conversation_id=conversation_id):
                data = {"conversation_id": conversation_id, "request_id": self.request_id}
                return [_frame({"event": "start", "data": data})]
            case ToolCallEvent(step="inference") if event.call_id not in self._calls:
                self._asked = event
                return []
            case ToolCallEvent():
                return self._call(event)
            case ToolResultEvent():
                return [self._result(event)]
            case ReasoningDeltaEvent(text=text) if text:
                frame = reasoning_frame(self._id, text)
                self._id += 1
                return [frame]
            case ApprovalRequestEvent():
                return [_frame({"event": "approval_required", "data": approval_required(event)})]
            case ApprovalResultEvent() if not event.approved:
                return [self._result(refused_result(event))]  # lightspeed-service's way
            case TurnCompleteEvent(text=text):
                return [self._numbered("turn_complete", text)]
            case ErrorEvent(code="interrupted") if is_gateway_error(event):
                interrupted = {"event": "interrupted", "data": {"request_id": self.request_id}}
                return [self._numbered("token", INTERRUPTED_SUFFIX), _frame(interrupted)]
            case ErrorEvent():
                return [_frame({"event": "error", "data": _error_data(event)})]
            case HeartbeatEvent(chunk=None):
                return [Comment("heartbeat")]  # 0.7.1 sends none; readers skip comments
            case EndEvent():
                return [_frame({"event": "end", **self._end(event)})]
            case _:
                return []

    def closer(self) -> Self:
        """Return a fresh formatter that goes on from this one.

        Its closing frames depend on the request id and the token counter (an interrupt's
        notice token), and a call still waiting for the next event goes out before them.
        """
        fresh = type(self)()
        fresh.request_id = self.request_id
        fresh._id = self._id
        fresh._calls = set(self._calls)
        fresh._round, fresh._result_seen = self._round, self._result_seen
        fresh._asked = self._asked
        return fresh

    def _end(self, event: EndEvent) -> JsonObject:
        return end_fields(event)

    def _numbered(self, name: str, token: str) -> Frame:
        """`{"event": name, "data": {"id": n, "token": token}}`, n the next number, written out."""
        frame = token_frame(name, self._id, token)
        self._id += 1
        return frame

    def _call(self, event: ToolCallEvent) -> list[FrameValue]:
        if event.call_id in self._calls:
            return []  # told twice: as the model asked for it, and as it ran
        self._calls.add(event.call_id)
        if self._result_seen:
            self._round += 1
            self._result_seen = False
        data = {
            "id": event.call_id,
            "name": event.name,
            "args": _arguments(event.arguments),
            "type": call_type(event),
        }
        return [_frame({"event": "tool_call", "data": data})]

    def _result(self, event: ToolResultEvent) -> Frame:
        self._result_seen = True
        data = {
            "id": event.call_id,
            "status": "failure" if event.failed else "success",
            "content": interleaved_text(event.content),
            "type": call_type(event),
            "round": self._round,
        }
        return _frame({"event": "tool_result", "data": data})


def reasoning_frame(frame_id: int, text: str) -> Frame:
    """Return openshift/lightspeed-service's `reasoning` frame: `{"id": n, "reasoning": text}`."""
    return _frame({"event": "reasoning", "data": {"id": frame_id, "reasoning": text}})


def _asks_approval(event: Event, asked: ToolCallEvent) -> bool:
    """Whether `event` asks approval for the call `asked`: an MCP tool the server would run."""
    return type(event) is ApprovalRequestEvent and event.call_id == asked.call_id


def _frame(payload: JsonObject) -> Frame:
    return Frame(json.dumps(payload))


def _arguments(arguments: JsonObject | str) -> Any:
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _error_data(event: ErrorEvent) -> JsonObject:
    if not is_gateway_error(event):
        return {"status_code": 500, "response": UPSTREAM_ERROR_RESPONSE, "cause": event.message}
    status = GATEWAY_STATUS.get(event.code, 500)
    return {"status_code": status, "response": title(event), "cause": event.message}


def end_fields(event: EndEvent, context_status: bool = True) -> JsonObject:
    """Return the `end` frame's `data` and `available_quotas` (0.7 adds `context_status`)."""
    documents = [
        {"doc_url": doc.url, "doc_title": doc.title, "source": None, "document_id": doc.document_id}
        for doc in event.referenced_documents
    ]
    data: JsonObject = {
        "referenced_documents": documents,
        "truncated": None,  # 0.4.2 and 0.7.1 never say
        "context_status": "full",
        "input_tokens": event.input_tokens,
        "output_tokens": event.output_tokens,
    }
    if not context_status:
        del data["context_status"]
    return {"data": data, "available_quotas": {}}
