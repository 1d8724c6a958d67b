"""The `responses` format: OpenAI Responses API stream events, each with its `sequence_number`.

The agent's own tool activity becomes server-side output items (`file_search_call`,
`web_search_call`, `mcp_call`), never `function_call`, which a client would run itself. Every
frame, a keep-alive comment too, takes one sequence number, so that with resumable streams a
frame's `sequence_number` is its position in the stream store (`starting_after` is `after`).
"""

from __future__ import annotations

import base64
import binascii
import copy
import secrets
import time
from json.encoder import encode_basestring_ascii
from typing import Any, ClassVar, Self

from formatters.approval_words import refused_result
from formatters.base import ApprovalChannel, Formatter, Frame, FrameValue
from formatters.event_json import compact_json
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
    TextContent,
    TextDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnAwaitingInputEvent,
    TurnCompleteEvent,
)
from formatters.frames import KEEP_ALIVE

DEFAULT_MODEL = "llama-stack-agent"
"""The `model` of a response when the request named none (`/v1/streaming_query`)."""
RESPONSE_PREFIX = "resp_"
FILE_SEARCH_TOOLS = frozenset({"file_search", "knowledge_search"})
TEXT_DELTA = "response.output_text.delta"
SERVER_LABEL = "agent"
"""The `server_label` of `mcp_call` items: the tools are the agent's, configured on the service."""


def response_id(stream_id: str, conversation_id: str) -> str:
    """Return the response id of a stream: its stream id and its conversation, recoverable."""
    conversation = base64.urlsafe_b64encode(conversation_id.encode()).decode().rstrip("=")
    return f"{RESPONSE_PREFIX}{stream_id}.{conversation}"


def parse_response_id(text: str) -> tuple[str, str] | None:
    """Split a response id into its stream id and conversation id; None if it is not one."""
    stream_id, dot, conversation = text.removeprefix(RESPONSE_PREFIX).partition(".")
    if not text.startswith(RESPONSE_PREFIX) or not dot or not stream_id or not conversation:
        return None
    padded = conversation + "=" * (-len(conversation) % 4)
    try:
        decoded = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError):
        return None
    return (stream_id, decoded) if decoded else None


class ResponseBuilder:
    """Maps one turn's normalized events to Responses stream event payloads, in order."""

    def __init__(
        self,
        *,
        stream_id: str,
        model: str,
        created_at: int,
        instructions: str | None = None,
        previous_response_id: str | None = None,
    ) -> None:
        self._stream_id = stream_id
        self._seq = 0
        self._response: JsonObject = {
            "id": "",
            "object": "response",
            "created_at": created_at,
            "status": "in_progress",
            "error": None,
            "incomplete_details": None,
            "instructions": instructions,
            "max_output_tokens": None,
            "model": model,
            "output": [],
            "parallel_tool_calls": True,
            "previous_response_id": previous_response_id,
            "conversation": None,
            "store": True,
            "temperature": None,
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": None,
            "truncation": "disabled",
            "usage": None,
            "metadata": {},
        }
        self._output: list[JsonObject] = []
        self._message: JsonObject | None = None
        self._reasoning: JsonObject | None = None
        """The open `reasoning` item: closed when the answer, a tool call or the end comes."""
        self._tools: dict[str, JsonObject] = {}
        self._finishing: JsonObject | None = None
        self._text_sent = False
        self._violation = False
        self._awaiting_input = False
        self._error: ErrorEvent | None = None
        self._delta_head = ""
        """The open message's `response.output_text.delta` JSON up to its `delta` value."""
        self._asked: ToolCallEvent | None = None
        """A call the model asked for, until the next event tells whether it needs approval."""
        self._approvals = 0
        """The `mcp_approval_request` items sent: the response then completes awaiting them."""
        self.final: JsonObject | None = None
        """The response object of the terminal event, once it was built."""

    def skip(self) -> int:
        """Take one sequence number for a frame that carries no event (a keep-alive)."""
        self._seq += 1
        return self._seq - 1

    def text_delta_json(self, event: Event) -> str | None:
        """Return a text delta's one payload as JSON, written out; None unless a message is open.

        The bytes `compact_json` makes of the payload `payloads` returns for it (the same
        keys in the same order; strings through `encode_basestring_ascii`, ints by `repr`).
        """
        if (
            type(event) is not TextDeltaEvent
            or not event.text
            or self._message is None
            or self._finishing is not None
            or self._asked is not None
        ):
            return None
        text = event.text
        self._text_sent = True
        self._message["_text"].append(text)
        seq = self._seq
        self._seq = seq + 1
        return (
            f'{self._delta_head}{encode_basestring_ascii(text)},"logprobs":[],'
            f'"sequence_number":{seq!r}}}'
        )

    def payloads(self, event: Event) -> list[JsonObject]:
        """Return the event payloads for one normalized event (`data:` of one frame each)."""
        out: list[JsonObject] = []
        if self._finishing is not None and not isinstance(event, DocumentsEvent):
            self._finish_tool(out)
        if self._asked is not None:
            self._asked_call(out, event)
        match event:
            case StartEvent(conversation_id=conversation_id):
                self._response["id"] = response_id(self._stream_id, conversation_id)
                self._response["conversation"] = {"id": conversation_id}
                self._emit(out, "response.created", response=self._snapshot())
                self._emit(out, "response.in_progress", response=self._snapshot())
            case TextDeltaEvent(text=text) if text:
                self._text(out, text)
            case ReasoningDeltaEvent(text=text) if text:
                self._reason(out, text)
            case ToolCallEvent(step="inference") if event.call_id not in self._tools:
                self._close_message(out)
                self._asked = event  # an approval request for it may follow: then no mcp_call
            case ToolCallEvent():
                self._close_message(out)
                self._tool_call(out, event)
            case ApprovalRequestEvent():
                self._close_message(out)
                self._approval_request(out, event)
            case ApprovalResultEvent() if not event.approved:
                self._close_message(out)
                self._tool_result(out, refused_result(event))
            case ToolResultEvent():
                self._close_message(out)
                self._tool_result(out, event)
            case DocumentsEvent() if self._finishing is not None:
                self._finishing.setdefault("_documents", []).extend(event.documents)
            case ShieldEvent(violation=violation):
                self._violation = self._violation or violation is not None
            case TurnAwaitingInputEvent() if self._approvals:
                pass  # an approval request completes the response (OpenAI's MCP approvals)
            case TurnAwaitingInputEvent():
                self._awaiting_input = True
            case TurnCompleteEvent(text=text) if text and not self._text_sent:
                self._text(out, text)
            case ErrorEvent():
                self._error = event
                error = {"type": "server_error", "code": event.code, "message": event.message}
                self._emit(
                    out, "error", code=event.code, message=event.message, param=None, error=error
                )
            case EndEvent():
                self._end(out, event)
        self._seq += len(out)
        return out

    def _emit(self, out: list[JsonObject], kind: str, **fields: Any) -> None:
        out.append({"type": kind, **fields, "sequence_number": self._seq + len(out)})

    def _snapshot(self) -> JsonObject:
        return {**self._response, "output": [dict(item) for item in self._output]}

    def _text(self, out: list[JsonObject], text: str) -> None:
        self._text_sent = True
        if self._message is None:
            self._close_reasoning(out)
            self._message = {
                "id": f"msg_{self._stream_id}_{len(self._output)}",
                "type": "message",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
                "_text": [],
            }
            self._output.append(self._message)
            index = len(self._output) - 1
            self._emit(
                out, "response.output_item.added", output_index=index, item=_item(self._message)
            )
            self._emit(out, "response.content_part.added", **self._where(), part=_part(""))
            head = compact_json({"type": TEXT_DELTA, **self._where()})
            self._delta_head = f'{head[:-1]},"delta":'
        self._message["_text"].append(text)
        self._emit(out, TEXT_DELTA, **self._where(), delta=text, logprobs=[])

    def _where(self) -> JsonObject:
        assert self._message is not None
        index = self._output.index(self._message)
        return {"item_id": self._message["id"], "output_index": index, "content_index": 0}

    def _close_message(self, out: list[JsonObject]) -> None:
        if self._message is None:
            self._close_reasoning(out)
            return
        where = self._where()
        text = "".join(self._message.pop("_text"))
        self._emit(out, "response.output_text.done", **where, text=text, logprobs=[])
        self._emit(out, "response.content_part.done", **where, part=_part(text))
        self._message["content"] = [_part(text)]
        self._message["status"] = "incomplete" if self._error is not None else "completed"
        self._emit(
            out, "response.output_item.done", output_index=where["output_index"], item=self._message
        )
        self._message = None

    def _reason(self, out: list[JsonObject], text: str) -> None:
        """Open a `reasoning` item unless one is open; add `text` as a reasoning_text delta."""
        if self._reasoning is None:
            self._close_message(out)
            self._reasoning = {
                "id": f"rs_{self._stream_id}_{len(self._output)}",
                "type": "reasoning",
                "summary": [],
                "content": [],
                "status": "in_progress",
                "_text": [],
            }
            self._output.append(self._reasoning)
            index = len(self._output) - 1
            item = _item(self._reasoning)
            self._emit(out, "response.output_item.added", output_index=index, item=item)
            part = _reasoning_part("")
            self._emit(out, "response.content_part.added", **self._reasoning_at(), part=part)
        self._reasoning["_text"].append(text)
        self._emit(out, "response.reasoning_text.delta", **self._reasoning_at(), delta=text)

    def _reasoning_at(self) -> JsonObject:
        assert self._reasoning is not None
        index = self._output.index(self._reasoning)
        return {"item_id": self._reasoning["id"], "output_index": index, "content_index": 0}

    def _close_reasoning(self, out: list[JsonObject]) -> None:
        if self._reasoning is None:
            return
        where = self._reasoning_at()
        text = "".join(self._reasoning.pop("_text"))
        self._emit(out, "response.reasoning_text.done", **where, text=text)
        self._emit(out, "response.content_part.done", **where, part=_reasoning_part(text))
        self._reasoning["content"] = [_reasoning_part(text)]
        self._reasoning["status"] = "completed"
        index = where["output_index"]
        self._emit(out, "response.output_item.done", output_index=index, item=self._reasoning)
        self._reasoning = None

    def _tool_call(self, out: list[JsonObject], event: ToolCallEvent) -> None:
        item = self._tools.get(event.call_id)
        if item is not None:
            if item["type"] == "mcp_call":
                item["arguments"] = _arguments_text(event.arguments)
            elif item["type"] == "file_search_call":
                item["queries"] = _queries(event.arguments)
            return
        item = self._tools[event.call_id] = _tool_item(event.name, event.call_id, event.arguments)
        self._output.append(item)
        index = len(self._output) - 1
        self._emit(out, "response.output_item.added", output_index=index, item=dict(item))
        kind = item["type"].removesuffix("_call")
        self._emit(out, f"response.{kind}_call.in_progress", item_id=item["id"], output_index=index)
        if kind != "mcp":
            self._emit(
                out, f"response.{kind}_call.searching", item_id=item["id"], output_index=index
            )

    def _asked_call(self, out: list[JsonObject], event: Event) -> None:
        """Send the call the model asked for unless `event` asks approval for it."""
        asked, self._asked = self._asked, None
        assert asked is not None
        if type(event) is not ApprovalRequestEvent or event.call_id != asked.call_id:
            self._tool_call(out, asked)

    def _approval_request(self, out: list[JsonObject], event: ApprovalRequestEvent) -> None:
        """Send an `mcp_approval_request` item, added and done (`mcp_approval_response` answers)."""
        self._approvals += 1
        item = {
            "id": event.approval_id,
            "type": "mcp_approval_request",
            "server_label": event.server_label or SERVER_LABEL,
            "name": event.name,
            "arguments": _arguments_text(event.arguments),
        }
        self._output.append(item)
        index = len(self._output) - 1
        self._emit(out, "response.output_item.added", output_index=index, item=dict(item))
        self._emit(out, "response.output_item.done", output_index=index, item=dict(item))

    def _tool_result(self, out: list[JsonObject], event: ToolResultEvent) -> None:
        if event.call_id not in self._tools:
            self._tool_call(
                out, ToolCallEvent(call_id=event.call_id, name=event.name, arguments={})
            )
        item = self._tools[event.call_id]
        text = _content_text(event.content)
        if item["type"] == "mcp_call":
            item["output"], item["error"] = (None, text) if event.failed else (text, None)
        elif item["type"] == "file_search_call":
            item["results"] = [_result(text) for text in _content_texts(event.content)]
        item["status"] = "failed" if event.failed else "completed"
        self._finishing = item

    def _finish_tool(self, out: list[JsonObject]) -> None:
        item, self._finishing = self._finishing, None
        assert item is not None
        documents = item.pop("_documents", [])
        if documents and item["type"] == "file_search_call":
            item["results"] = [
                {
                    "file_id": document.document_id or document.url,
                    "filename": document.title,
                    "score": None,
                    "text": None,
                    "attributes": {"url": document.url},
                }
                for document in documents
            ]
        index = self._output.index(item)
        kind = item["type"].removesuffix("_call")
        done = "failed" if item["status"] == "failed" and kind == "mcp" else "completed"
        self._emit(out, f"response.{kind}_call.{done}", item_id=item["id"], output_index=index)
        self._emit(out, "response.output_item.done", output_index=index, item=dict(item))

    def _end(self, out: list[JsonObject], end: EndEvent) -> None:
        self._close_message(out)
        for item in self._tools.values():
            if item["status"] == "in_progress":  # a call nobody ran: the turn awaits input
                item["status"] = "incomplete"
                index = self._output.index(item)
                self._emit(out, "response.output_item.done", output_index=index, item=dict(item))
        response = self._snapshot()
        response["usage"] = {
            "input_tokens": end.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": end.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": end.input_tokens + end.output_tokens,
        }
        if self._error is not None:
            response["status"] = "failed"
            response["error"] = {"code": self._error.code, "message": self._error.message}
            kind = "response.failed"
        elif self._violation or end.truncated or self._awaiting_input:
            response["status"] = "incomplete"
            reason = "content_filter" if self._violation else "max_output_tokens"
            response["incomplete_details"] = {"reason": reason}
            kind = "response.incomplete"
        else:
            response["status"] = "completed"
            kind = "response.completed"
        self.final = response
        self._emit(out, kind, response=response)


class ResponsesFormatter(Formatter):
    """OpenAI Responses API streaming events, as the official OpenAI SDKs read them."""

    name = "responses"
    aliases = ("openai-responses",)
    description = (
        "OpenAI Responses API events, response.created to response.completed (OpenAI SDKs' "
        "responses.stream); the agent's tools as server-side items"
    )
    approvals: ClassVar[ApprovalChannel] = "request"

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        stream_id: str | None = None,
        created_at: int | None = None,
        instructions: str | None = None,
        previous_response_id: str | None = None,
    ) -> None:
        self.builder = ResponseBuilder(
            stream_id=stream_id or secrets.token_urlsafe(16),
            model=model,
            created_at=int(time.time()) if created_at is None else created_at,
            instructions=instructions,
            previous_response_id=previous_response_id,
        )

    def format(self, event: Event) -> list[FrameValue]:
        """Return one `event:`/`data:` frame per payload; a comment for heartbeats."""
        if (text := self.builder.text_delta_json(event)) is not None:  # most events
            return [Frame(text, TEXT_DELTA)]
        if isinstance(event, HeartbeatEvent):
            self.builder.skip()
            return [KEEP_ALIVE]
        return [Frame(compact_json(p), p["type"]) for p in self.builder.payloads(event)]

    def closer(self) -> Self:
        """Return a formatter of the same response, its output and its sequence so far.

        Its `error` and `response.failed` continue this stream: same response id, the items
        sent, the next sequence numbers (what the OpenAI SDKs' accumulators check).
        """
        closer = copy.copy(self)
        closer.builder = copy.deepcopy(self.builder)
        return closer


def _item(message: JsonObject) -> JsonObject:
    return {key: value for key, value in message.items() if not key.startswith("_")}


def _part(text: str) -> JsonObject:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _reasoning_part(text: str) -> JsonObject:
    return {"type": "reasoning_text", "text": text}


def _tool_item(name: str, call_id: str, arguments: JsonObject | str) -> JsonObject:
    if name in FILE_SEARCH_TOOLS:
        return {
            "id": call_id,
            "type": "file_search_call",
            "status": "in_progress",
            "queries": _queries(arguments),
            "results": None,
        }
    if name == "web_search":
        return {"id": call_id, "type": "web_search_call", "status": "in_progress"}
    return {
        "id": call_id,
        "type": "mcp_call",
        "status": "in_progress",
        "server_label": SERVER_LABEL,
        "name": name,
        "arguments": _arguments_text(arguments),
        "output": None,
        "error": None,
    }


def _queries(arguments: JsonObject | str) -> list[str]:
    if isinstance(arguments, str):
        return [arguments] if arguments else []
    queries = arguments.get("queries")
    if isinstance(queries, list):
        return [str(query) for query in queries]
    query = arguments.get("query")
    return [str(query)] if query else []


def _result(text: str) -> JsonObject:
    return {"file_id": None, "filename": None, "score": None, "text": text, "attributes": {}}


def _content_texts(content: str | list[Any]) -> list[str]:
    if isinstance(content, str):
        return [content]
    return [item.text for item in content if isinstance(item, TextContent)]


def _content_text(content: str | list[Any]) -> str:
    return "\n".join(_content_texts(content))


def _arguments_text(arguments: JsonObject | str) -> str:
    return arguments if isinstance(arguments, str) else compact_json(arguments)
