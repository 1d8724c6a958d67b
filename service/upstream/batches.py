"""Event batches: the events one upstream read completed, handed on together."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, ClassVar, Protocol, Self

from formatters.events import Event

MAX_BATCH = 256
"""Most events in one batch: a larger read is handed on in parts."""


class BatchReads(Protocol):
    """A turn's reads whose waits may be cancelled: a cancelled read loses nothing."""

    async def next_batch(self) -> list[Event]:
        """Return the events of the next read (never empty); StopAsyncIteration at the end.

        CancelledError while it waits for the upstream leaves the reads as they were: the
        next call goes on from there.
        """
        ...

    async def aclose(self) -> None:
        """Close the upstream request."""
        ...


class EventBatches:
    """A turn's events, one batch per upstream read; iterating it still yields single events."""

    cancel_safe: ClassVar[bool] = False
    """Whether a read may be cancelled while it waits and taken up again (CancelSafeBatches)."""

    def __init__(self, batches: AsyncGenerator[list[Event], None]) -> None:
        self._next: Callable[[], Awaitable[list[Event]]] = batches.__anext__
        self._close: Callable[[], Awaitable[None]] = batches.aclose
        self._rest: list[Event] = []
        self._start = 0

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        """Return the next single event."""
        await self._fill()
        return self._take(1)[0]

    async def next_batch(self) -> list[Event]:
        """Return up to MAX_BATCH events not yet taken, or wait for the next read's."""
        await self._fill()
        return self._take(MAX_BATCH)

    async def aclose(self) -> None:
        """Close the underlying reads (and so the upstream request)."""
        await self._close()

    async def _fill(self) -> None:
        while not self._rest:
            self._rest = await self._next()

    def _take(self, limit: int) -> list[Event]:
        rest, start = self._rest, self._start
        if start == 0 and len(rest) <= limit:
            self._rest = []
            return rest
        batch = rest[start : start + limit]
        self._start = start + len(batch)
        if self._start == len(rest):
            self._rest, self._start = [], 0
        return batch


class CancelSafeBatches(EventBatches):
    """Event batches from reads that survive cancellation (`BatchReads`), not a generator.

    A cancelled wait ends an async generator for good; these reads go on, so the pump can
    await them in its own task and cancel the wait for a heartbeat or a stop.
    """

    cancel_safe = True

    def __init__(self, reads: BatchReads) -> None:
        self._next = reads.next_batch
        self._close = reads.aclose
        self._rest = []
        self._start = 0


def batch_reader(
    events: AsyncIterator[Event],
) -> Callable[[], Coroutine[Any, Any, list[Event]]]:
    """Return a function that awaits the next batch of `events` (single events otherwise)."""
    if isinstance(events, EventBatches):
        return events.next_batch

    async def one() -> list[Event]:
        return [await anext(events)]

    return one
