"""Maps llama-stack Agents turn-stream chunks to normalized events (lightspeed PR #254's cases)."""

from __future__ import annotations

from typing import Any

import structlog
from pydantic import ValidationError

from formatters.events import (
    ContentItem,
    Document,
    DocumentsEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    ImageContent,
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
    TurnStartEvent,
    content_text,
)
from service.upstream.agents_wire import (
    WireContent,
    WireErrorChunk,
    WireEventChunk,
    WireImageDelta,
    WireStepComplete,
    WireStepProgress,
    WireStepStart,
    WireText,
    WireTextDelta,
    WireToolCallDelta,
    WireTurnAwaitingInput,
    WireTurnComplete,
    WireTurnStart,
)
from service.upstream.documents import documents_in_text
from service.upstream.texts import NO_MESSAGE

log = structlog.get_logger(__name__)

_STEPS = ("inference", "tool_execution", "shield_call")
# The model's own validator, called without `BaseModel.__init__`'s Python frame: the same
# validation and the same instance, a third cheaper for the text deltas that make up a turn.
_validate_text_delta = TextDeltaEvent.__pydantic_validator__.validate_python


def normalize_chunk(index: int, raw: Any) -> list[Event]:
    """Return the normalized events for one decoded chunk of an Agents turn stream."""
    delta = text_delta(index, raw)
    return [delta] if delta is not None else normalize_other(index, raw)


def normalize_other(index: int, raw: Any) -> list[Event]:
    """Return the normalized events for a decoded chunk `text_delta` gave None for."""
    if isinstance(raw, dict) and "error" in raw:
        return [_error(index, raw)]
    try:
        payload = WireEventChunk.model_validate(raw).event.payload
    except ValidationError as exc:
        log.debug("agents chunk not understood, sent as heartbeat", errors=exc.error_count())
        return [HeartbeatEvent(chunk=index)]
    match payload:
        case WireTurnStart():
            return [TurnStartEvent(chunk=index)]
        case WireTurnAwaitingInput():
            return [TurnAwaitingInputEvent(chunk=index)]
        case WireTurnComplete():
            text = _flatten(payload.turn.output_message.content)
            return [TurnCompleteEvent(chunk=index, text=text)]
    if payload.step_type not in _STEPS:
        return [HeartbeatEvent(chunk=index)]
    match payload:
        case WireStepStart():
            return [StepStartEvent(chunk=index, step=payload.step_type)]
        case WireStepProgress():
            return _progress(index, payload)
        case WireStepComplete():
            return _complete(index, payload)
    return [HeartbeatEvent(chunk=index)]


def text_delta(index: int, raw: Any) -> TextDeltaEvent | None:
    """Return the event of an inference text delta (most chunks of a turn), or None.

    Read without the wire models: only a chunk they would read as exactly that
    (`WireStepProgress`, step type `inference`, a `WireTextDelta` with a str text, no
    `error`) gives one; anything else gives None and goes through them (`normalize_other`).
    It reads only the chunk's strings, keys and nesting, which orjson reads as json.loads
    does, so `raw` may be `json_chunks.quick_chunk`'s reading.
    """
    if type(raw) is not dict or "error" in raw:  # a chunk with an error is the error
        return None
    event = raw.get("event")
    payload = event.get("payload") if type(event) is dict else None
    if type(payload) is not dict or payload.get("event_type") != "step_progress":
        return None
    delta = payload.get("delta")
    if payload.get("step_type") != "inference" or type(delta) is not dict:
        return None
    text = delta.get("text")
    if delta.get("type") != "text" or type(text) is not str:
        return None
    made: TextDeltaEvent = _validate_text_delta({"chunk": index, "step": "inference", "text": text})
    return made


def _error(index: int, raw: dict[str, Any]) -> ErrorEvent:
    error = WireErrorChunk.model_validate(raw).error if isinstance(raw.get("error"), dict) else {}
    message = error.get("message")
    if not isinstance(message, str) or not message:
        message = NO_MESSAGE
    return ErrorEvent(chunk=index, message=message)


def _progress(index: int, payload: WireStepProgress) -> list[Event]:
    if payload.step_type != "inference":
        return []
    step = payload.step_type
    match payload.delta:
        case WireTextDelta(text=text):
            return [TextDeltaEvent(chunk=index, step=step, text=text)]
        case WireToolCallDelta(tool_call=str() as partial):
            return [ToolCallDeltaEvent(chunk=index, step=step, delta=partial)]
        case WireToolCallDelta(tool_call=call) if not isinstance(call, str):
            return [
                ToolCallEvent(
                    chunk=index,
                    step=step,
                    call_id=call.call_id,
                    name=call.tool_name,
                    arguments=call.arguments,
                )
            ]
        case WireImageDelta() | None:
            return []
    return []


def _complete(index: int, payload: WireStepComplete) -> list[Event]:
    step = payload.step_type
    details = payload.step_details
    events: list[Event] = []
    if step == "shield_call":
        violation = details.violation
        events.append(
            ShieldEvent(
                chunk=index,
                step=step,
                violation=None
                if violation is None
                else ShieldViolation(
                    user_message=violation.user_message,
                    metadata=violation.metadata,
                    level=violation.violation_level,
                ),
            )
        )
    elif step == "tool_execution":
        events.extend(
            ToolCallEvent(
                chunk=index, step=step, call_id=c.call_id, name=c.tool_name, arguments=c.arguments
            )
            for c in details.tool_calls
        )
        documents: list[Document] = []
        for response in details.tool_responses:
            content = _content(response.content)
            events.append(
                ToolResultEvent(
                    chunk=index,
                    step=step,
                    call_id=response.call_id,
                    name=response.tool_name,
                    content=content,
                    failed=bool((response.metadata or {}).get("error")),
                )
            )
            if response.tool_name == "knowledge_search" and isinstance(content, list):
                for item in content:
                    if isinstance(item, TextContent):
                        documents.extend(documents_in_text(item.text))
        if documents:
            events.append(DocumentsEvent(chunk=index, step=step, documents=documents))
    events.append(StepEndEvent(chunk=index, step=step))
    return events


def _content(content: WireContent) -> str | list[ContentItem]:
    if isinstance(content, str):
        return content
    items = content if isinstance(content, list) else [content]
    return [
        TextContent(text=item.text)
        if isinstance(item, WireText)
        else ImageContent(url=item.image.url.uri if item.image.url else None, data=item.image.data)
        for item in items
    ]


def _flatten(content: WireContent) -> str:
    if isinstance(content, str):
        return content
    return content_text(content if isinstance(content, list) else [content])
