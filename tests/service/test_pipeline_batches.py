"""The pump with events that arrive together: one write per read, the same bytes, same limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from formatters.events import ErrorEvent, Event, TextDeltaEvent
from formatters.frames import FrameValue, encode_frame
from formatters.patternfly import PatternflyFormatter
from service.resume.outcomes import ResumeOutcome
from service.streams.pipeline import Outcome, Stop, TooLarge, pump_batches, run_stream
from service.upstream import Turn
from service.upstream.batches import MAX_BATCH, EventBatches
from tests.service.each_event import pump_each

TOO_BIG = Stop(ResumeOutcome.TOO_LARGE, ErrorEvent(message="too big", code="too_large"))


def deltas(count: int) -> list[Event]:
    return [TextDeltaEvent(chunk=i, step="inference", text=f"t{i} ") for i in range(count)]


def batched(*reads: list[Event] | float, closed: list[bool] | None = None) -> Turn:
    """A turn whose upstream delivers each list in one read; a float is a silence."""

    async def batches() -> AsyncGenerator[list[Event], None]:
        try:
            for read in reads:
                if isinstance(read, float):
                    await asyncio.sleep(read)
                else:
                    yield read
        finally:
            if closed is not None:
                closed.append(True)

    return Turn(conversation_id="conv", events=EventBatches(batches()))


def one_by_one(events: list[Event]) -> Turn:
    async def single() -> AsyncIterator[Event]:
        for event in events:
            yield event

    return Turn(conversation_id="conv", events=single())


class Client:
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    async def write(self, data: bytes) -> None:
        self.writes.append(data)

    def names(self) -> list[list[str]]:
        """The events of each write, in order."""
        return [
            [part.split('"')[0] for part in write.decode().split('"event": "')[1:]]
            for write in self.writes
        ]


async def pump(turn: Turn, client: Client, interval: float = 5, **kwargs: Any):
    return await run_stream(
        turn,
        PatternflyFormatter(),
        client.write,
        heartbeat_interval=interval,
        stream_timeout=60,
        **kwargs,
    )


async def test_the_events_of_one_read_go_out_in_one_write_with_the_bytes_of_one_by_one() -> None:
    events = deltas(5)
    together, apart = Client(), Client()
    result = await pump(batched(events[:3], events[3:]), together)
    await pump(one_by_one(events), apart)
    assert together.names() == [["start"], ["token"] * 3, ["token"] * 2, ["end"]]
    assert b"".join(together.writes) == b"".join(apart.writes)
    assert (result.outcome, result.frames) == (Outcome.COMPLETED, 7)


async def test_a_read_larger_than_max_batch_goes_out_in_writes_of_max_batch() -> None:
    client = Client()
    result = await pump(batched(deltas(MAX_BATCH + 3)), client)
    assert [len(names) for names in client.names()] == [1, MAX_BATCH, 3, 1]
    assert result.frames == MAX_BATCH + 5


async def test_an_upstream_error_in_a_read_is_sent_in_its_place_then_end() -> None:
    client = Client()
    read = [*deltas(2), ErrorEvent(chunk=2, message="boom")]
    result = await pump(batched(read), client)
    assert client.names() == [["start"], ["token", "token", "error"], ["end"]]
    assert result.outcome is Outcome.UPSTREAM_ERROR


async def test_a_client_that_stops_reading_during_a_burst_is_ended_after_the_write_timeout() -> (
    None
):
    class StuckClient(Client):
        async def write(self, data: bytes) -> None:
            if self.writes:
                await asyncio.sleep(3600)
            self.writes.append(data)

    client = StuckClient()
    closed: list[bool] = []
    result = await pump(batched(deltas(50), 30.0, closed=closed), client, write_timeout=0.1)
    assert result.outcome is Outcome.CLIENT_STALLED
    assert client.names() == [["start"]]
    assert closed == [True]


async def test_heartbeats_fill_the_silence_after_a_burst() -> None:
    client = Client()
    result = await pump(batched(deltas(300), 0.35, deltas(1)), client, interval=0.1)
    names = client.names()
    assert names[:3] == [["start"], ["token"] * MAX_BATCH, ["token"] * 44]
    assert names[-2:] == [["token"], ["end"]]
    assert names[3:-2] == [["heartbeat"]] * result.heartbeats
    assert result.heartbeats >= 2


class Budget:
    """A FrameBuffer that keeps at most `limit` frames, then refuses once, like the producer."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept: list[str] = []
        self.pending: list[str] = []
        self.flushes: list[list[str]] = []
        self.refused = False

    def add(self, frames: list[FrameValue] | list[str], event: Event) -> bool:
        if not self.refused and len(self.kept) + len(self.pending) + len(frames) > self.limit:
            self.refused = True
            raise TooLarge(TOO_BIG)
        self.pending += [f if isinstance(f, str) else encode_frame(f) for f in frames]
        return False

    async def flush(self) -> None:
        self.flushes.append(self.pending)
        self.kept += self.pending
        self.pending = []


async def test_a_budget_refusing_an_event_mid_read_keeps_the_events_before_it() -> None:
    buffer = Budget(limit=3)
    closed: list[bool] = []
    result = await pump_batches(
        batched(deltas(5), closed=closed),
        PatternflyFormatter(),
        buffer,
        heartbeat_interval=5,
        stream_timeout=60,
    )
    assert result.outcome is ResumeOutcome.TOO_LARGE
    assert [len(frames) for frames in buffer.flushes] == [1, 3, 1]  # start; 2 tokens + error; end
    assert closed == [True]

    frames: list[str] = []
    budget = Budget(limit=3)

    async def each(written: list[str], event: Event) -> None:
        budget.add(written, event)
        await budget.flush()
        frames.extend(written)

    await pump_each(
        one_by_one(deltas(5)),
        PatternflyFormatter(),
        each,
        heartbeat_interval=5,
        stream_timeout=60,
    )
    assert buffer.kept == frames  # the same frames, the error's id included
