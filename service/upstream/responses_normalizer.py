"""Maps llama-stack Responses stream events (0.4+, checked on 0.7.3) to normalized events."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import ValidationError

from formatters.events import (
    ApprovalRequestEvent,
    Document,
    DocumentsEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    JsonObject,
    ReasoningDeltaEvent,
    ShieldEvent,
    ShieldViolation,
    StepEndEvent,
    StepStartEvent,
    TextContent,
    TextDeltaEvent,
    ToolCallDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnAwaitingInputEvent,
    TurnCompleteEvent,
    UsageEvent,
)
from service.upstream.responses_wire import (
    DELTA_EVENTS,
    EVENT_MODELS,
    QUIET_EVENTS,
    WireAnnotation,
    WireArgumentsDoneEvent,
    WireErrorEvent,
    WireFileSearchCallItem,
    WireFileSearchResult,
    WireFunctionCallItem,
    WireLifecycleEvent,
    WireMcpApprovalRequestItem,
    WireMcpCallItem,
    WireMessageItem,
    WireOutputItem,
    WireOutputItemEvent,
    WireResponse,
    WireWebSearchCallItem,
)

log = structlog.get_logger(__name__)

INFERENCE = "inference"
TOOL_EXECUTION = "tool_execution"
SHIELD_CALL = "shield_call"
RESPONSE_FAILED_MESSAGE = "The agent failed to answer and gave no reason."
MALFORMED_MESSAGE = "The agent sent a stream event this service cannot read."
# The models' own validators, called without `BaseModel.__init__`'s Python frame: the same
# validation and the same instances, cheaper for the deltas that make up nearly all of a turn.
_validate_text_delta = TextDeltaEvent.__pydantic_validator__.validate_python
_validate_reasoning_delta = ReasoningDeltaEvent.__pydantic_validator__.validate_python
_MAX_MESSAGE_CHARS = 2000
_FLAGGED = re.compile(r" \(flagged for: ([^)]*)\)")
_VIOLATION_TYPE = re.compile(r" \(violation type: ([^)]*)\)")
_URL_ATTRIBUTES = ("docs_url", "doc_url", "url")
_STARTED = frozenset({"response.created", "response.in_progress"})
"""Lifecycle events the normalizer takes nothing from; each carries the whole response object."""
QUICK_READ_EVENTS = DELTA_EVENTS | QUIET_EVENTS | _STARTED
"""Event types whose normalizing reads only strings, keys and nesting, which orjson reads as
json.loads does: `json_chunks.quick_chunk`'s reading of them serves (nearly every event)."""


@dataclass(slots=True)
class _Call:
    call_id: str
    name: str | None = None
    arguments: str | None = None


class ResponsesNormalizer:
    """Turns one Responses stream into normalized events; one instance per stream.

    It remembers tool calls by output item id, because llama-stack streams a call's argument
    deltas before (file_search, MCP) or after (functions) the item that names the call.
    """

    def __init__(self) -> None:
        self._calls: dict[str, _Call] = {}
        self._refusal_streamed = False
        self._untitled: dict[str, Document] = {}
        """Retrieved documents titled by their URL, by file_search result `file_id`."""

    def normalize(self, index: int, raw: Any) -> list[Event]:
        """Return the normalized events for the stream event at position `index`.

        An event of an unknown type is a heartbeat; one of a known type that does not have
        that type's shape (or a value that is not a JSON object) is an upstream error.
        """
        kind = raw.get("type") if type(raw) is dict else None
        if kind in DELTA_EVENTS:
            delta, item_id = raw.get("delta"), raw.get("item_id")
            if type(delta) is str and (item_id is None or type(item_id) is str):
                return self._delta(index, kind, delta, item_id)
            return _malformed(index, kind)
        if kind in QUIET_EVENTS:
            return []
        if kind in _STARTED:  # nothing of it is read: its shape is checked, not validated
            return [] if type(raw.get("response")) is dict else _malformed(index, kind)
        model = EVENT_MODELS.get(kind) if isinstance(kind, str) else None
        if model is None:
            if type(raw) is not dict:
                return _malformed(index, None)
            log.debug("responses event type not understood, sent as heartbeat", event_type=kind)
            return [HeartbeatEvent(chunk=index)]
        try:
            event = model.model_validate(raw)
        except ValidationError as exc:
            return _malformed(index, kind, exc.error_count())
        match event:
            case WireArgumentsDoneEvent(item_id=item_id, arguments=arguments):
                self._call(item_id).arguments = arguments
                return []
            case WireOutputItemEvent(type="response.output_item.added", item=item):
                return self._item_added(index, item)
            case WireOutputItemEvent(item=item):
                return self._item_done(index, item)
            case WireLifecycleEvent():
                return self._lifecycle(index, event)
            case WireErrorEvent(message=message):
                return [ErrorEvent(chunk=index, message=_safe_message(message))]
        return []

    def _call(self, item_id: str) -> _Call:
        return self._calls.setdefault(item_id, _Call(call_id=item_id))

    def _delta(self, index: int, kind: str, delta: str, item_id: str | None) -> list[Event]:
        match kind:
            case "response.output_text.delta":
                return [_validate_text_delta({"chunk": index, "step": INFERENCE, "text": delta})]
            case "response.refusal.delta":
                self._refusal_streamed = True
                return [_validate_text_delta({"chunk": index, "step": INFERENCE, "text": delta})]
            case "response.reasoning_text.delta" | "response.reasoning_summary_text.delta":
                event = {"chunk": index, "step": INFERENCE, "text": delta}
                return [_validate_reasoning_delta(event)]
        call = self._call(item_id) if item_id else None
        return [
            ToolCallDeltaEvent(
                chunk=index,
                step=INFERENCE,
                call_id=call.call_id if call else None,
                name=call.name if call else None,
                delta=delta,
            )
        ]

    def _item_added(self, index: int, item: WireOutputItem) -> list[Event]:
        match item:
            case WireMessageItem():
                return [StepStartEvent(chunk=index, step=INFERENCE)]
            case WireFunctionCallItem():
                call = self._call(item.id or item.call_id)
                call.call_id, call.name = item.call_id, item.name
                return [
                    ToolCallDeltaEvent(
                        chunk=index, step=INFERENCE, call_id=item.call_id, name=item.name, delta=""
                    )
                ]
            case WireMcpCallItem():
                arguments = self._call(item.id).arguments or item.arguments
                return self._server_call_started(index, item.id, item.name, _arguments(arguments))
            case WireFileSearchCallItem():
                requested = self._call(item.id).arguments
                searched: JsonObject | str = (
                    _arguments(requested) if requested else {"queries": item.queries}
                )
                return self._server_call_started(index, item.id, "file_search", searched)
            case WireWebSearchCallItem():
                return self._server_call_started(index, item.id, "web_search", {})
        return []

    def _server_call_started(
        self, index: int, call_id: str, name: str, arguments: JsonObject | str
    ) -> list[Event]:
        return [
            ToolCallEvent(
                chunk=index, step=INFERENCE, call_id=call_id, name=name, arguments=arguments
            ),
            StepStartEvent(chunk=index, step=TOOL_EXECUTION),
        ]

    def _item_done(self, index: int, item: WireOutputItem) -> list[Event]:
        match item:
            case WireMessageItem():
                return [StepEndEvent(chunk=index, step=INFERENCE)]
            case WireFunctionCallItem():
                return [
                    ToolCallEvent(
                        chunk=index,
                        step=INFERENCE,
                        call_id=item.call_id,
                        name=item.name,
                        arguments=_arguments(item.arguments),
                    )
                ]
            case WireMcpApprovalRequestItem():
                arguments = _arguments(item.arguments)
                return [
                    ToolCallEvent(
                        chunk=index,
                        step=INFERENCE,
                        call_id=item.id,
                        name=item.name,
                        arguments=arguments,
                    ),
                    ApprovalRequestEvent(
                        chunk=index,
                        step=INFERENCE,
                        approval_id=item.id,
                        call_id=item.id,
                        name=item.name,
                        arguments=arguments,
                        server_label=item.server_label,
                    ),
                ]
            case WireMcpCallItem():
                return self._mcp_done(index, item)
            case WireFileSearchCallItem():
                return self._file_search_done(index, item)
            case WireWebSearchCallItem():
                return [
                    ToolCallEvent(
                        chunk=index,
                        step=TOOL_EXECUTION,
                        call_id=item.id,
                        name="web_search",
                        arguments={},
                    ),
                    StepEndEvent(chunk=index, step=TOOL_EXECUTION),
                ]
        return []

    def _mcp_done(self, index: int, item: WireMcpCallItem) -> list[Event]:
        failed = item.error is not None
        return [
            ToolCallEvent(
                chunk=index,
                step=TOOL_EXECUTION,
                call_id=item.id,
                name=item.name,
                arguments=_arguments(item.arguments),
            ),
            ToolResultEvent(
                chunk=index,
                step=TOOL_EXECUTION,
                call_id=item.id,
                name=item.name,
                content=(item.error if failed else item.output) or "",
                failed=failed,
            ),
            StepEndEvent(chunk=index, step=TOOL_EXECUTION),
        ]

    def _file_search_done(self, index: int, item: WireFileSearchCallItem) -> list[Event]:
        results = item.results or []
        events: list[Event] = [
            ToolCallEvent(
                chunk=index,
                step=TOOL_EXECUTION,
                call_id=item.id,
                name="file_search",
                arguments={"queries": item.queries},
            ),
            ToolResultEvent(
                chunk=index,
                step=TOOL_EXECUTION,
                call_id=item.id,
                name="file_search",
                content=[TextContent(text=result.text) for result in results],
            ),
        ]
        documents = []
        for result in results:
            document = _document(result)
            if document is None:
                continue
            documents.append(document)
            if document.title == document.url and result.file_id:
                self._untitled[result.file_id] = document
        if documents:
            events.append(DocumentsEvent(chunk=index, step=TOOL_EXECUTION, documents=documents))
        events.append(StepEndEvent(chunk=index, step=TOOL_EXECUTION))
        return events

    def _lifecycle(self, index: int, event: WireLifecycleEvent) -> list[Event]:
        response = event.response
        events: list[Event] = []
        if event.type in ("response.completed", "response.incomplete", "response.failed"):
            truncated = True if event.type == "response.incomplete" else None
            if response.usage is not None or truncated:
                usage = response.usage
                events.append(
                    UsageEvent(
                        chunk=index,
                        input_tokens=usage.input_tokens if usage else 0,
                        output_tokens=usage.output_tokens if usage else 0,
                        truncated=truncated,
                    )
                )
        match event.type:
            case "response.failed":
                message = response.error.message if response.error else None
                events.append(ErrorEvent(chunk=index, message=_safe_message(message)))
            case "response.completed" | "response.incomplete":
                events.extend(self._cited_titles(index, response))
                events.extend(self._guardrail_refusal(index, response))
                if _awaits_client(response):
                    events.append(TurnAwaitingInputEvent(chunk=index))
                else:
                    events.append(TurnCompleteEvent(chunk=index, text=_answer_text(response)))
        return events

    def _cited_titles(self, index: int, response: WireResponse) -> list[Event]:
        """Title a retrieved document by the file name its `file_citation` gives (OGX 1.5).

        The same document again, now named, replaces the URL-titled one in the `end` frame.
        """
        titled: dict[str, Document] = {}
        for annotation in _annotations(response):
            document = self._untitled.get(annotation.file_id or "")
            name = annotation.filename
            if document is None or not name or name == annotation.file_id:
                continue
            titled.setdefault(
                document.document_id or document.url, document.model_copy(update={"title": name})
            )
        if not titled:
            return []
        return [DocumentsEvent(chunk=index, step=INFERENCE, documents=list(titled.values()))]

    def _guardrail_refusal(self, index: int, response: WireResponse) -> list[Event]:
        """Report a refusal the final output holds but the stream never sent: a guardrail's."""
        if self._refusal_streamed:
            return []
        refusals = [
            part.refusal
            for item in response.output
            if isinstance(item, WireMessageItem) and not isinstance(item.content, str)
            for part in item.content
            if part.type == "refusal" and part.refusal
        ]
        if not refusals:
            return []
        text = "".join(refusals)
        return [
            ShieldEvent(chunk=index, step=SHIELD_CALL, violation=_violation(text)),
            TextDeltaEvent(chunk=index, step=INFERENCE, text=text),
        ]


def _malformed(index: int, kind: object, errors: int = 0) -> list[Event]:
    """Return the upstream error for an event that is not what its type promises."""
    log.warning("responses event malformed, the turn fails", event_type=kind, errors=errors)
    return [ErrorEvent(chunk=index, message=MALFORMED_MESSAGE)]


def _arguments(text: str) -> JsonObject | str:
    if not text.strip():
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return parsed if isinstance(parsed, dict) else text


def _safe_message(message: str | None) -> str:
    if not message or not message.strip():
        return RESPONSE_FAILED_MESSAGE
    return message[:_MAX_MESSAGE_CHARS]


def _answer_text(response: WireResponse) -> str:
    parts: list[str] = []
    for item in response.output:
        if not isinstance(item, WireMessageItem):
            continue
        if isinstance(item.content, str):
            parts.append(item.content)
            continue
        for part in item.content:
            if part.type == "output_text" and part.text:
                parts.append(part.text)
            elif part.type == "refusal" and part.refusal:
                parts.append(part.refusal)
    return "".join(parts)


def _annotations(response: WireResponse) -> list[WireAnnotation]:
    """Return the `file_citation` annotations of the response's output text."""
    return [
        annotation
        for item in response.output
        if isinstance(item, WireMessageItem) and not isinstance(item.content, str)
        for part in item.content
        for annotation in part.annotations
        if annotation.type == "file_citation"
    ]


def _awaits_client(response: WireResponse) -> bool:
    return any(
        isinstance(item, WireFunctionCallItem | WireMcpApprovalRequestItem)
        for item in response.output
    )


def _violation(text: str) -> ShieldViolation:
    """Split a guardrail message: "<message> (flagged for: ...) (violation type: ...)"."""
    metadata: JsonObject = {}
    flagged = _FLAGGED.search(text)
    if flagged:
        metadata["flagged_categories"] = flagged.group(1)
    violation_type = _VIOLATION_TYPE.search(text)
    if violation_type:
        metadata["violation_type"] = violation_type.group(1)
    user_message = _VIOLATION_TYPE.sub("", _FLAGGED.sub("", text)).strip()
    return ShieldViolation(user_message=user_message or text, metadata=metadata)


def _document(result: WireFileSearchResult) -> Document | None:
    """Return the referenced document of a file_search result whose attributes carry a URL.

    Its title is the `title` attribute, else the `filename` attribute, else the URL: never the
    result's own `filename`, an id (llama-stack's `file-…`, OGX's document UUID), not a name.
    """
    attributes = result.attributes
    url = next(
        (
            value
            for key in _URL_ATTRIBUTES
            if isinstance(value := attributes.get(key), str) and value
        ),
        None,
    )
    if url is None:
        return None
    title = next(
        (
            value
            for key in ("title", "filename")
            if isinstance(value := attributes.get(key), str) and value
        ),
        url,
    )
    document_id = attributes.get("document_id") or result.file_id or url
    return Document(url=url, title=title, document_id=str(document_id))
