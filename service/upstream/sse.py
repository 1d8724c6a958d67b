"""Incremental Server-Sent Events decoder (WHATWG parsing rules) for upstream response bodies."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import NamedTuple

MAX_EVENT_BYTES = 16 * 1024 * 1024
"""The largest upstream event a decoder takes (16 MiB); a larger one raises EventTooLarge."""


class ServerSentEvent(NamedTuple):
    """One dispatched SSE event (a named tuple: building one is a quarter of a frozen dataclass)."""

    data: str
    event: str = "message"
    id: str | None = None


_new_event = tuple.__new__


class EventTooLarge(ValueError):
    """An upstream event grew past the decoder's size limit."""


class SSEDecoder:
    """Turns body bytes, fed in any split, into events; `max_event_bytes` bounds memory.

    Whole events made of one `data: ` line (nearly every event of an agent's stream) are cut
    out of the chunk with `bytes.split`; anything else goes through the line-by-line machine,
    which keeps the state between chunks.
    """

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._partial: list[bytes] = []
        self._partial_size = 0
        self._pending_cr = False
        self._data: list[str] = []
        self._size = 0
        self._event = ""
        self._last_id: str | None = None
        self._first_line = True
        self._between_events = False
        """True when no line is begun, no field is kept and the body's first line is read."""
        self._block_limit = max_event_bytes + 5
        """The longest `data: ` line taken whole: `data: ` and the value's newline (+ 1 <= max)."""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Consume bytes and return the events they complete."""
        end = len(chunk) - 2
        if (  # one whole event of one `data: ` line (a model's pace: a token a read), as below
            self._between_events
            and chunk.find(b"\n") == end
            and chunk[end:] == b"\n\n"
            and chunk[:6] == b"data: "
            and chunk.find(b"\r") < 0
            and end <= self._block_limit
        ):
            data = chunk[6:end].decode("utf-8", errors="replace")
            return [_new_event(ServerSentEvent, (data, "message", self._last_id))]
        events = self._feed(chunk)
        self._between_events = not (
            self._partial or self._data or self._event or self._first_line or self._pending_cr
        )
        return events

    def _feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if not chunk:
            return []
        if self._pending_cr and chunk[0] == 10:
            chunk = chunk[1:]
            if not chunk:
                self._pending_cr = False
                return []
        self._pending_cr = chunk[-1] == 13
        if chunk.find(b"\r") >= 0:  # `in` on bytes first tries the needle as an int: slower
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        events: list[ServerSentEvent] = []
        if self._first_line and not self._partial and chunk.find(b"\n") >= 0:
            # the body's first line is complete in this chunk: drop its BOM here
            self._first_line = False
            if chunk[:3] == b"\xef\xbb\xbf":
                chunk = chunk[3:]
        if self._partial or self._data or self._event or self._first_line:
            first = chunk.find(b"\n\n")
            if first < 0:
                self._lines(chunk, events)
                return events
            self._lines(chunk[: first + 2], events)
            chunk = chunk[first + 2 :]
        blocks = chunk.split(b"\n\n")
        tail = blocks.pop()
        limit = self._block_limit
        last_id = self._last_id
        new = _new_event
        for block in blocks:
            if block[:6] == b"data: " and block.find(b"\n") < 0 and len(block) <= limit:
                data = block[6:].decode("utf-8", errors="replace")
                events.append(new(ServerSentEvent, (data, "message", last_id)))
            else:
                self._lines(block + b"\n\n", events)
                last_id = self._last_id
        if tail:
            self._lines(tail, events)
        return events

    def _lines(self, normalized: bytes, events: list[ServerSentEvent]) -> None:
        """Run newline-normalized bytes through the line machine, appending what they complete."""
        if normalized.find(b"\n") < 0:
            if normalized:
                self._partial.append(normalized)
                self._partial_size += len(normalized)
                self._check_partial()
            return
        lines = normalized.split(b"\n")
        if self._partial:
            lines[0] = b"".join(self._partial) + lines[0]
        tail = lines.pop()
        self._partial = [tail] if tail else []
        self._partial_size = len(tail)
        self._check_partial()
        for raw in lines:
            event = self._line(raw.decode("utf-8", errors="replace"))
            if event is not None:
                events.append(event)

    def _check_partial(self) -> None:
        if self._partial_size > self._max:
            raise EventTooLarge(f"upstream event larger than {self._max} bytes")

    def _line(self, line: str) -> ServerSentEvent | None:
        if self._first_line:
            self._first_line = False
            line = line.removeprefix("\ufeff")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._size += len(value) + 1
            if self._size > self._max:
                raise EventTooLarge(f"upstream event larger than {self._max} bytes")
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._last_id = value
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data, event = self._data, self._event
        self._data, self._event, self._size = [], "", 0
        if not data:
            return None
        return ServerSentEvent(data="\n".join(data), event=event or "message", id=self._last_id)


async def iter_sse(
    body: AsyncIterable[bytes], max_event_bytes: int = MAX_EVENT_BYTES
) -> AsyncIterator[ServerSentEvent]:
    """Yield the events of an SSE body given as an async iterable of byte chunks."""
    decoder = SSEDecoder(max_event_bytes)
    async for chunk in body:
        for event in decoder.feed(chunk):
            yield event
