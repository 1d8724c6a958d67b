"""The `raw` format: every normalized event as an SSE event named by its type, numbered by `id`."""

from __future__ import annotations

from json.encoder import encode_basestring_ascii
from typing import ClassVar, Self

from formatters.base import ApprovalChannel, Formatter, Frame, FrameValue
from formatters.event_json import compact_json, event_object
from formatters.events import Event, TextDeltaEvent

EVENT_NAMES = {"error": "turn_error"}
"""SSE event names that differ from the event's type: EventSource fires `error` for its own
connection errors, so a listener for those would also get the server's error event."""


def event_name(event_type: str) -> str:
    """Return the SSE event name of a normalized event type (`error` → `turn_error`)."""
    return EVENT_NAMES.get(event_type, event_type)


class RawFormatter(Formatter):
    """The normalized events themselves (`GET /v1/events/schema`), for tools and debugging."""

    name = "raw"
    aliases = ("events",)
    description = (
        "The normalized events as SSE: event: <type> (error: turn_error), id: <sequence>, "
        "data: <JSON>"
    )
    approvals: ClassVar[ApprovalChannel] = "route"

    def __init__(self, *, sequence: int = 0) -> None:
        self._sequence = sequence

    def format(self, event: Event) -> list[FrameValue]:
        """Return one frame per event, heartbeats and the final `end` included."""
        if type(event) is TextDeltaEvent:  # most events: written out
            frame = Frame(text_delta_json(event), "text_delta", str(self._sequence))
        else:
            data = compact_json(event_object(event))
            frame = Frame(data, event=event_name(event.type), id=str(self._sequence))
        self._sequence += 1
        return [frame]

    def closer(self) -> Self:
        """Return a fresh formatter that numbers on from this one's next `id`."""
        return type(self)(sequence=self._sequence)


def text_delta_json(event: TextDeltaEvent) -> str:
    """`compact_json(event_object(event))` of a text delta, written out (the same bytes)."""
    chunk, step = event.chunk, event.step
    return (
        f'{{"type":"text_delta","chunk":{"null" if chunk is None else int.__repr__(chunk)},'
        f'"step":{"null" if step is None else encode_basestring_ascii(step)},'
        f'"text":{encode_basestring_ascii(event.text)}}}'
    )
