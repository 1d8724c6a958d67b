"""The in-process stream store: one replica; frames in memory, bounded per stream and in total."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field, replace

from service.resume.store import Batch, Checkup, Epilogue, Fallback, StreamMeta


@dataclass(slots=True)
class _Stream:
    meta: StreamMeta
    frames: list[str] = field(default_factory=list)
    size: int = 0
    terminal: bool = False
    done_at: float | None = None
    followers: int = 0
    last_left: float = 0.0
    interrupt_claimed: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class MemoryStore:
    """Streams of this process; finished ones are dropped `window` seconds after they end.

    Finished streams are also dropped, oldest first, once they hold more than `finished_bytes`
    together; a running stream is bounded by its producer's budget.
    """

    keeps_epilogue = False

    def __init__(self, window: float, finished_bytes: int) -> None:
        self._window = window
        self._finished_bytes = finished_bytes
        self._streams: dict[str, _Stream] = {}
        self._finished: OrderedDict[str, int] = OrderedDict()
        self.finished_size = 0
        """Bytes held by finished streams."""

    def __len__(self) -> int:
        return len(self._streams)

    async def create(self, meta: StreamMeta) -> None:
        """Register a new running stream."""
        self._streams[meta.stream_id] = _Stream(meta=meta, last_left=_now())

    async def append(
        self,
        stream_id: str,
        first_seq: int,
        frames: Sequence[str],
        *,
        terminal: bool = False,
        epilogue: Epilogue | None = None,
    ) -> None:
        """Store stamped frames (the sequence is their position)."""
        stream = self._streams.get(stream_id)
        if stream is None or stream.terminal:
            return
        assert first_seq == len(stream.frames), "frames must arrive in order"
        stream.frames.extend(frames)
        stream.size += sum(len(frame) for frame in frames)
        stream.terminal = terminal
        stream.wake()

    async def finish(self, stream_id: str) -> None:
        """Mark the stream ended; it is kept for the window from now."""
        stream = self._streams.get(stream_id)
        if stream is None or stream.done_at is not None:
            return
        stream.done_at = _now()
        stream.meta = replace(stream.meta, done=True)
        self._finished[stream_id] = stream.size
        self.finished_size += stream.size
        stream.wake()
        self._evict()

    async def meta(self, stream_id: str) -> StreamMeta | None:
        """Return the stream's metadata, or None if unknown or expired."""
        self._expire()
        stream = self._streams.get(stream_id)
        return None if stream is None else stream.meta

    async def follow(
        self, stream_id: str, after: int, fallback: Fallback
    ) -> AsyncGenerator[Batch, None]:
        """Yield the frames after `after`, then live ones, up to the terminal frame."""
        stream = self._streams.get(stream_id)
        if stream is None:
            return
        stream.followers += 1
        try:
            position = max(after + 1, 0)
            while True:
                if position < len(stream.frames):
                    frames = stream.frames[position:]
                    position = len(stream.frames)
                    yield Batch(frames, position - 1, stream.terminal)
                    if stream.terminal:
                        return
                    continue
                if stream.done_at is not None:
                    return
                await stream.changed.wait()
        finally:
            stream.followers -= 1
            stream.last_left = _now()

    async def claim_interrupt(self, stream_id: str) -> bool:
        """Record an interrupt request; False if one was made already."""
        stream = self._streams.get(stream_id)
        if stream is None or stream.interrupt_claimed:
            return False
        stream.interrupt_claimed = True
        return True

    async def checkup(self, stream_ids: Sequence[str]) -> Checkup:
        """Say which of these turns nobody has followed for the window; drop expired streams."""
        self._expire()
        now = _now()
        abandoned = frozenset(
            stream_id
            for stream_id in stream_ids
            if (stream := self._streams.get(stream_id)) is not None
            and stream.followers == 0
            and now - stream.last_left >= self._window
        )
        return Checkup(abandoned=abandoned)

    async def close(self) -> None:
        """Drop every stream."""
        self._streams.clear()
        self._finished.clear()
        self.finished_size = 0

    def _expire(self) -> None:
        now = _now()
        while self._finished:
            stream_id = next(iter(self._finished))
            stream = self._streams.get(stream_id)
            done_at = None if stream is None else stream.done_at
            if done_at is not None and now - done_at < self._window:
                return
            self._drop(stream_id)

    def _evict(self) -> None:
        while self._finished and self.finished_size > self._finished_bytes:
            self._drop(next(iter(self._finished)))

    def _drop(self, stream_id: str) -> None:
        self.finished_size -= self._finished.pop(stream_id, 0)
        self._streams.pop(stream_id, None)


def _now() -> float:
    return asyncio.get_running_loop().time()
