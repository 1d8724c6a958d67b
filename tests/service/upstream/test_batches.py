"""Event batches: each upstream read's events together, in order, in parts of MAX_BATCH."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

from formatters.events import Event, TextDeltaEvent
from service.upstream.batches import MAX_BATCH, EventBatches, batch_reader


def deltas(start: int, count: int) -> list[Event]:
    return [
        TextDeltaEvent(chunk=i, step="inference", text=str(i)) for i in range(start, start + count)
    ]


def reads(*sizes: int, closed: list[bool] | None = None) -> EventBatches:
    async def batches() -> AsyncGenerator[list[Event], None]:
        start = 0
        try:
            for size in sizes:
                yield deltas(start, size)
                start += size
        finally:
            if closed is not None:
                closed.append(True)

    return EventBatches(batches())


def chunks(events: list[Event]) -> list[int | None]:
    return [event.chunk for event in events]


async def test_each_read_is_one_batch_in_order() -> None:
    batches = reads(3, 1, 2)
    assert [chunks(await batches.next_batch()) for _ in range(3)] == [[0, 1, 2], [3], [4, 5]]


async def test_a_read_larger_than_max_batch_is_handed_on_in_parts() -> None:
    batches = reads(MAX_BATCH * 2 + 5, 1)
    sizes = [len(await batches.next_batch()) for _ in range(4)]
    assert sizes == [MAX_BATCH, MAX_BATCH, 5, 1]


async def test_iterating_yields_single_events_across_reads() -> None:
    assert [event.chunk async for event in reads(2, 3)] == [0, 1, 2, 3, 4]


async def test_single_events_and_batches_can_be_mixed_without_losing_any() -> None:
    batches = reads(4)
    first = await anext(batches)
    assert [first.chunk, *chunks(await batches.next_batch())] == [0, 1, 2, 3]


async def test_closing_closes_the_reads() -> None:
    closed: list[bool] = []
    batches = reads(2, 2, closed=closed)
    await batches.next_batch()
    await batches.aclose()
    assert closed == [True]


async def test_a_plain_event_iterator_is_read_one_event_a_batch() -> None:
    async def events() -> AsyncIterator[Event]:
        for event in deltas(0, 2):
            yield event

    read = batch_reader(events())
    assert [chunks(await read()), chunks(await read())] == [[0], [1]]
