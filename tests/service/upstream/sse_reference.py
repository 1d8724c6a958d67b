"""The line-by-line SSE decoder the fast one replaced, kept as the oracle for its tests."""

from __future__ import annotations

from service.upstream.sse import EventTooLarge, ServerSentEvent


class ReferenceDecoder:
    """WHATWG SSE parsing one line at a time: slow, plain, and the definition of right."""

    def __init__(self, max_event_bytes: int = 16 * 1024 * 1024) -> None:
        self._max = max_event_bytes
        self._partial: list[bytes] = []
        self._partial_size = 0
        self._pending_cr = False
        self._data: list[str] = []
        self._size = 0
        self._event = ""
        self._last_id: str | None = None
        self._first_line = True

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Consume bytes and return the events they complete."""
        if not chunk:
            return []
        if self._pending_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._pending_cr = chunk.endswith(b"\r")
        normalized = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self._partial_size += len(normalized)
        if b"\n" not in normalized:
            self._partial.append(normalized)
            self._check_partial()
            return []
        lines = normalized.split(b"\n")
        lines[0] = b"".join(self._partial) + lines[0]
        tail = lines.pop()
        self._partial, self._partial_size = [tail], len(tail)
        self._check_partial()
        events = []
        for raw in lines:
            event = self._line(raw.decode("utf-8", errors="replace"))
            if event is not None:
                events.append(event)
        return events

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
