"""One live reader per stream, shared in process by all of this replica's followers of it."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable

from service.resume.store import Batch, StoreUnavailable

KEPT_BATCHES = 8
"""Latest batches a feed keeps for its followers; one further behind reads on its own."""

CatchUp = Callable[[int], Awaitable[Batch | None]]
"""Read the frames after a sequence at once (no waiting); None when there are none yet."""


class Feed:
    """The batches one reader fetched for a stream, for every follower of it on this replica.

    The reader publishes contiguous batches from `start` on and ends the feed once; each
    follower takes what it has not seen from the kept batches, or reads on its own (`catch_up`)
    when it is further behind than they reach.
    """

    def __init__(self, start: int) -> None:
        self.last_seq = start
        """The sequence of the last frame the reader fetched."""
        self.followers = 0
        self._kept: deque[Batch] = deque(maxlen=KEPT_BATCHES)
        self._ended = False
        self._error: StoreUnavailable | None = None
        self._changed = asyncio.Event()

    @property
    def ended(self) -> bool:
        """Whether the reader is done (terminal frame, stream gone, or store failure)."""
        return self._ended

    def publish(self, batch: Batch) -> None:
        """Add the batch that follows `last_seq` and wake the followers."""
        self._kept.append(batch)
        self.last_seq = batch.last_seq
        if batch.terminal:
            self._ended = True
        self._wake()

    def end(self, error: StoreUnavailable | None = None) -> None:
        """End the feed: no more batches; with `error`, followers raise it once caught up."""
        if not self._ended:
            self._ended, self._error = True, error
        self._wake()

    async def follow(self, after: int, catch_up: CatchUp) -> AsyncGenerator[Batch, None]:
        """Yield the frames after `after` up to the terminal frame, as the reader fetches them."""
        cursor = after
        while True:
            changed = self._changed
            batch = self._since(cursor)
            if batch is None and cursor < self.last_seq:
                batch = await catch_up(cursor)
            if batch is not None:
                cursor = batch.last_seq
                yield batch
                if batch.terminal:
                    return
                continue
            if self._ended:
                if self._error is not None:
                    raise self._error
                return
            await changed.wait()

    def _since(self, cursor: int) -> Batch | None:
        """Return the kept frames after `cursor`; None if there are none or they start later."""
        kept = [batch for batch in self._kept if batch.last_seq > cursor]
        if not kept or _first_seq(kept[0]) > cursor + 1:
            return None
        frames = kept[0].frames[cursor + 1 - _first_seq(kept[0]) :]
        for batch in kept[1:]:
            frames.extend(batch.frames)
        return Batch(frames, kept[-1].last_seq, kept[-1].terminal)

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


def _first_seq(batch: Batch) -> int:
    return batch.last_seq - len(batch.frames) + 1
