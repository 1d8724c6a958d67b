"""The `raw` format: every normalized event as an SSE event named by its type, numbered by `id`."""

from __future__ import annotations

from typing import Self

from formatters.base import Formatter, Frame, FrameValue
from formatters.event_json import compact_json, event_object
from formatters.events import Event

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

    def __init__(self, *, sequence: int = 0) -> None:
        self._sequence = sequence

    def format(self, event: Event) -> list[FrameValue]:
        """Return one frame per event, heartbeats and the final `end` included."""
        frame = Frame(
            compact_json(event_object(event)), event=event_name(event.type), id=str(self._sequence)
        )
        self._sequence += 1
        return [frame]

    def closer(self) -> Self:
        """Return a fresh formatter that numbers on from this one's next `id`."""
        return type(self)(sequence=self._sequence)
