"""Event batches: the events one upstream read completed, handed on together."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine
from typing import Any, Self

from formatters.events import Event


class EventBatches:
    """A turn's events, one batch per upstream read; iterating it still yields single events."""

    def __init__(self, batches: AsyncGenerator[list[Event], None]) -> None:
        self._batches = batches
        self._rest: list[Event] = []

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        """Return the next single event."""
        while not self._rest:
            self._rest = list(await anext(self._batches))
            self._rest.reverse()
        return self._rest.pop()

    async def next_batch(self) -> list[Event]:
        """Return the events not yet taken, or wait for the next read's (never empty)."""
        if self._rest:
            rest, self._rest = self._rest[::-1], []
            return rest
        return await anext(self._batches)

    async def aclose(self) -> None:
        """Close the underlying reads (and so the upstream request)."""
        await self._batches.aclose()


def batch_reader(
    events: AsyncIterator[Event],
) -> Callable[[], Coroutine[Any, Any, list[Event]]]:
    """Return a function that awaits the next batch of `events` (single events otherwise)."""
    if isinstance(events, EventBatches):
        return events.next_batch

    async def one() -> list[Event]:
        return [await anext(events)]

    return one
