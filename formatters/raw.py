"""The `raw` format: every normalized event as an SSE event named by its type, numbered by `id`."""

from __future__ import annotations

from formatters.base import Formatter, sse_frame
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

    def __init__(self) -> None:
        self._sequence = 0

    def format(self, event: Event) -> list[str]:
        """Return one frame per event, heartbeats and the final `end` included."""
        frame = sse_frame(
            compact_json(event_object(event)), event=event_name(event.type), id=str(self._sequence)
        )
        self._sequence += 1
        return [frame]
