"""A WHATWG-style SSE parser for the resume tests: events, ids and comments, fed in pieces."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import aiohttp


@dataclass(frozen=True)
class SseEvent:
    """One dispatched event: its data (lines joined with \\n) and the last event id then."""

    data: str
    id: str | None
    event: str | None = None


@dataclass
class SseReader:
    """Parses one connection's text; `last_event_id` is what EventSource sends on reconnect.

    As in the spec, the id a frame sets becomes the last event id when the frame ends (its blank
    line), so a frame cut in the middle neither counts nor moves the id.
    """

    last_event_id: str | None = None
    events: list[SseEvent] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    _buffer: str = ""
    _data: list[str] = field(default_factory=list)
    _event: str | None = None
    _id: str | None = None

    def __post_init__(self) -> None:
        self._id = self.last_event_id

    def feed(self, text: str) -> None:
        """Parse more of the stream; a trailing partial line waits for the rest."""
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self._line(line)

    def reconnected(self) -> SseReader:
        """A reader for the next connection: the last event id carries over, nothing else."""
        return SseReader(last_event_id=self.last_event_id)

    def _line(self, line: str) -> None:
        if not line:
            self.last_event_id = self._id
            if self._data:
                self.events.append(SseEvent("\n".join(self._data), self._id, self._event))
            self._data, self._event = [], None
            return
        if line.startswith(":"):
            self.comments.append(line[1:].strip())
            return
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        elif name == "event":
            self._event = value


async def read_events(response: aiohttp.ClientResponse, reader: SseReader, count: int) -> None:
    """Feed `reader` from `response` until it holds `count` events (the stream must not end)."""
    while len(reader.events) < count:
        chunk = await response.content.readany()
        assert chunk, "the stream ended early"
        reader.feed(chunk.decode())


def event_names(reader: SseReader) -> list[str]:
    """The `event` field of each event's JSON data (lightspeed-stack's frame shape)."""
    return [json.loads(event.data)["event"] for event in reader.events]
