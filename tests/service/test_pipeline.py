"""The stream pump alone: terminal frame, failures, heartbeats, a vanished client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from formatters.base import Formatter
from formatters.events import ErrorEvent, Event, TextDeltaEvent
from formatters.lightspeed_01 import Lightspeed01Formatter
from formatters.patternfly import PatternflyFormatter
from service.resume.outcomes import ResumeOutcome
from service.streams.pipeline import INTERNAL_ERROR, Outcome, Stop, TooLarge, run_stream
from service.upstream import LOST_UPSTREAM, Turn, UpstreamStreamError
from tests.service.each_event import pump_each


class Sink:
    def __init__(self, fail_after: int | None = None) -> None:
        self.writes: list[bytes] = []
        self.fail_after = fail_after

    async def write(self, data: bytes) -> None:
        if self.fail_after is not None and len(self.writes) >= self.fail_after:
            raise aiohttp.ClientConnectionResetError("Cannot write to closing transport")
        self.writes.append(data)

    def events(self) -> list[str]:
        return [w.decode().split('"event": "')[1].split('"')[0] for w in self.writes]


def turn(*items: Event | BaseException | float, closed: list[bool] | None = None) -> Turn:
    async def events() -> AsyncIterator[Event]:
        try:
            for item in items:
                if isinstance(item, float):
                    await asyncio.sleep(item)
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            if closed is not None:
                closed.append(True)

    return Turn(conversation_id="conv", events=events())


async def pump(
    t: Turn, sink: Sink, interval: float = 5, limit: float = 60, formatter: Formatter | None = None
):
    return await run_stream(
        t,
        formatter or PatternflyFormatter(),
        sink.write,
        heartbeat_interval=interval,
        stream_timeout=limit,
    )


async def test_a_clean_turn_ends_with_exactly_one_end() -> None:
    sink = Sink()
    result = await pump(turn(TextDeltaEvent(chunk=0, step="inference", text="hi")), sink)
    assert sink.events() == ["start", "token", "end"]
    assert (result.outcome, result.frames, result.heartbeats) == (Outcome.COMPLETED, 3, 0)


async def test_an_upstream_error_event_is_followed_by_end() -> None:
    sink = Sink()
    result = await pump(turn(ErrorEvent(chunk=0, message="boom")), sink)
    assert sink.events() == ["start", "error", "end"]
    assert result.outcome is Outcome.UPSTREAM_ERROR


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (UpstreamStreamError(LOST_UPSTREAM), LOST_UPSTREAM),
        (UpstreamStreamError("quota exceeded", "upstream_error"), "quota exceeded"),
        (RuntimeError("bug"), INTERNAL_ERROR),
    ],
)
async def test_an_exception_mid_stream_becomes_error_then_end(failure, message) -> None:
    sink = Sink()
    closed: list[bool] = []
    t = turn(TextDeltaEvent(chunk=0, step="inference", text="a"), failure, closed=closed)
    result = await pump(t, sink)
    assert sink.events() == ["start", "token", "error", "end"]
    assert message in sink.writes[2].decode()
    assert result.outcome is Outcome.UPSTREAM_ERROR
    assert closed == [True]


async def test_an_upstream_error_line_raised_mid_stream_keeps_the_releases_error_frame() -> None:
    # the client library raises an upstream SSE `error` line: it came from chunk 1, so it is an
    # upstream error chunk (the releases' `error{id, token}`), not one of the gateway's own
    sink = Sink()
    failure = UpstreamStreamError("quota exceeded", "upstream_error", chunk=1)
    events = turn(TextDeltaEvent(chunk=0, step="inference", text="a"), failure)
    await pump(events, sink, formatter=Lightspeed01Formatter())
    assert sink.writes[2].decode() == (
        'data: {"event": "error", "data": {"id": 1, "token": "quota exceeded"}}\n\n'
    )


async def test_heartbeats_fill_silence() -> None:
    sink = Sink()
    result = await pump(turn(0.35, TextDeltaEvent(chunk=0, step="inference", text="a")), sink, 0.1)
    assert sink.events()[0] == "start"
    assert sink.events()[-2:] == ["token", "end"]
    assert result.heartbeats == sink.events().count("heartbeat") >= 2


async def test_a_failed_write_stops_the_stream_and_closes_the_upstream() -> None:
    sink = Sink(fail_after=1)
    closed: list[bool] = []
    result = await pump(turn(30.0, closed=closed), sink, interval=0.05)
    assert result.outcome is Outcome.CLIENT_GONE
    assert sink.events() == ["start"]
    assert closed == [True]


async def test_the_time_limit_ends_with_error_then_end() -> None:
    sink = Sink()
    closed: list[bool] = []
    result = await pump(turn(30.0, closed=closed), sink, interval=10, limit=0.1)
    assert sink.events() == ["start", "error", "end"]
    assert result.outcome is Outcome.TIMEOUT
    assert closed == [True]


async def test_cancellation_propagates_and_closes_the_upstream() -> None:
    sink = Sink()
    closed: list[bool] = []
    task = asyncio.create_task(pump(turn(30.0, closed=closed), sink))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed == [True]


async def test_a_client_that_stops_reading_is_ended_after_the_write_timeout() -> None:
    class StuckSink(Sink):
        async def write(self, data: bytes) -> None:
            if self.writes:
                await asyncio.sleep(3600)
            self.writes.append(data)

    sink = StuckSink()
    closed: list[bool] = []
    t = turn(TextDeltaEvent(chunk=0, step="inference", text="a"), 30.0, closed=closed)
    result = await run_stream(
        t,
        PatternflyFormatter(),
        sink.write,
        heartbeat_interval=5,
        stream_timeout=60,
        write_timeout=0.1,
    )
    assert result.outcome is Outcome.CLIENT_STALLED
    assert sink.events() == ["start"]
    assert closed == [True]


async def test_the_stop_signal_ends_the_stream_with_error_then_end() -> None:
    sink = Sink()
    closed: list[bool] = []
    stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_later(0.1, stop.set_result, None)
    result = await run_stream(
        turn(30.0, closed=closed),
        PatternflyFormatter(),
        sink.write,
        heartbeat_interval=5,
        stream_timeout=60,
        stop=stop,
    )
    assert result.outcome is Outcome.DRAINED
    assert sink.events() == ["start", "error", "end"]
    assert "The service is restarting" in sink.writes[1].decode()
    assert closed == [True]


async def test_an_interrupt_ends_the_stream_with_its_error_and_outcome_then_end() -> None:
    frames: list[tuple[str, str]] = []

    async def sink(written: list[str], event: Event) -> None:
        frames.extend((event.type, frame) for frame in written)

    closed: list[bool] = []
    interrupt: asyncio.Future[Stop] = asyncio.get_running_loop().create_future()
    reason = Stop(ResumeOutcome.INTERRUPTED, ErrorEvent(message="stopped", code="interrupted"))
    asyncio.get_running_loop().call_later(0.1, interrupt.set_result, reason)
    result = await pump_each(
        turn(TextDeltaEvent(chunk=0, step="inference", text="a"), 30.0, closed=closed),
        PatternflyFormatter(),
        sink,
        heartbeat_interval=5,
        stream_timeout=60,
        interrupt=interrupt,
    )
    assert result.outcome is ResumeOutcome.INTERRUPTED
    assert [kind for kind, _ in frames] == ["start", "text_delta", "error", "end"]
    assert frames[2][1] == (  # patternfly: an interrupt is no error
        'data: {"event": "interrupted", "data": {"id": 1, "token": "stopped", '
        '"response": "The answer was interrupted", "cause": "stopped"}}\n\n'
    )
    assert closed == [True]


async def test_a_sink_over_its_budget_gets_the_stop_error_and_end_and_the_upstream_closes() -> None:
    accepted: list[str] = []
    reason = Stop(ResumeOutcome.TOO_LARGE, ErrorEvent(message="too big", code="too_large"))

    async def sink(written: list[str], event: Event) -> None:
        if isinstance(event, TextDeltaEvent) and len(accepted) >= 2:
            raise TooLarge(reason)
        accepted.extend(written)

    closed: list[bool] = []
    deltas = [TextDeltaEvent(chunk=i, step="inference", text=str(i)) for i in range(5)]
    result = await pump_each(
        turn(*deltas, closed=closed),
        PatternflyFormatter(),
        sink,
        heartbeat_interval=5,
        stream_timeout=60,
    )
    assert result.outcome is ResumeOutcome.TOO_LARGE
    assert [frame.split('"event": "')[1].split('"')[0] for frame in accepted] == [
        "start", "token", "error", "end"
    ]  # fmt: skip
    assert '"token": "too big"' in accepted[2]
    assert closed == [True]
