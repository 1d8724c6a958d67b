"""The answer as plain text, for `media_type: text/plain` (lightspeed-stack 0.7.1's text stream)."""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

from formatters.approval_words import answer_note
from formatters.base import ApprovalChannel, Formatter, FrameValue
from formatters.events import (
    ApprovalResultEvent,
    EndEvent,
    ErrorEvent,
    Event,
    TextDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnCompleteEvent,
)
from formatters.frames import Text
from formatters.gateway_errors import title

MEDIA_TYPE = "text/plain"
STATUS_CODES = MappingProxyType({"drained": 503, "timeout": 504, "too_large": 413})
"""The `Status:` of an error line by the error's code; any other error is 500."""


class PlainTextFormatter(Formatter):
    r"""No frames: the answer's text and 0.7.1's text lines for tools, errors and documents.

    As 0.7.1's `serialize_text`: a token is its text, a tool call `[Tool Call: NAME]\n`, a
    result `[Tool Result]\n`, an error `Status: CODE - RESPONSE - CAUSE`, the end the documents
    after `\n\n---\n\n` (`TITLE: URL` lines; nothing without documents); nothing else is
    written. A turn that streamed no text (a shield's refusal) writes its final text.
    """

    name = "text"
    """Not an installed format: a request chooses it by `media_type`, not by `?format=`."""
    media_type = MEDIA_TYPE
    description = "the answer's text alone (a request's media_type text/plain)"
    approvals: ClassVar[ApprovalChannel] = "none"

    def __init__(self) -> None:
        self._calls: set[str] = set()
        self._text_sent = False

    def format(self, event: Event) -> list[FrameValue]:
        """Return the text one event adds (possibly none)."""
        if type(event) is TextDeltaEvent:
            self._text_sent = self._text_sent or bool(event.text)
            return [Text(event.text)] if event.text else []
        match event:
            case ToolCallEvent(call_id=call_id, name=name) if call_id not in self._calls:
                self._calls.add(call_id)
                return [Text(f"[Tool Call: {name}]\n")]
            case ToolResultEvent():
                return [Text("[Tool Result]\n")]
            case ApprovalResultEvent() if not event.approved:
                return [Text(answer_note(event))]
            case TurnCompleteEvent(text=text) if text and not self._text_sent:
                self._text_sent = True
                return [Text(text)]
            case ErrorEvent(code="interrupted", message=message):
                return [Text(f"\n\n*{message}*")]
            case ErrorEvent(message=message, code=code):
                status = STATUS_CODES.get(code, 500)
                return [Text(f"Status: {status} - {title(event)} - {message}")]
            case EndEvent(referenced_documents=documents) if documents:
                lines = "\n".join(f"{d.title}: {d.url}" for d in documents if d.url and d.title)
                return [Text(f"\n\n---\n\n{lines}")] if lines else []
        return []
