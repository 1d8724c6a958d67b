"""The stream pump: events plus timer heartbeats → formatter → client, one terminal frame."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import aiohttp
import structlog

from formatters.base import Formatter, FrameValue
from formatters.events import (
    Document,
    DocumentsEvent,
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    StartEvent,
    TextDeltaEvent,
    UsageEvent,
)
from formatters.frames import encode
from formatters.usage import UsageSoFar
from service.streams.pause import PauseClock
from service.streams.wakeup import Wakeup
from service.upstream import Turn, UpstreamStreamError
from service.upstream.batches import MAX_BATCH, EventBatches, batch_reader

log = structlog.get_logger(__name__)

Write = Callable[[bytes], Coroutine[Any, Any, None]]


class FrameBuffer(Protocol):
    """Where a stream's frames go: taken event by event, handed on together by `flush`."""

    def add(self, frames: list[FrameValue], event: Event) -> bool:
        """Take one event's frames (never empty); True asks for a flush before the next event.

        Raising TooLarge refuses this event (nothing of it is kept); what was added before it
        still goes out with the next flush.
        """
        ...

    async def flush(self) -> None:
        """Hand on everything added since the last flush (ClientGone if nobody can take it)."""
        ...


INTERNAL_ERROR = "The service failed while streaming the answer."
DRAINED = "The service is restarting and ended this answer early; please ask again."


class Outcome(StrEnum):
    """How a stream ended, as far as the pump knows (resume adds its own: ResumeOutcome)."""

    COMPLETED = "completed"
    UPSTREAM_ERROR = "upstream_error"
    CLIENT_GONE = "client_gone"
    CLIENT_STALLED = "client_stalled"
    TIMEOUT = "timeout"
    DRAINED = "drained"


CANCELLED = "cancelled"
"""The outcome of a stream whose handler was cancelled (the server stopped under it)."""


@dataclass(frozen=True, slots=True)
class Stop:
    """A reason to end a stream early: its outcome and the error event its clients get."""

    outcome: StrEnum
    """An Outcome, or the outcome of whoever stops the stream (resume's ResumeOutcome)."""
    error: ErrorEvent


def drained() -> Stop:
    """Return the stop of a stream the service ends because it is draining."""
    return Stop(Outcome.DRAINED, ErrorEvent(message=DRAINED, source="gateway", code="drained"))


def timed_out(seconds: float) -> Stop:
    """Return the stop of a turn that took longer than the `seconds` the service allows."""
    message = f"The answer took longer than the {seconds:g} s this service allows."
    return Stop(Outcome.TIMEOUT, ErrorEvent(message=message, source="gateway", code="timeout"))


def read_failed(exc: Exception) -> Stop:
    """Return the stop of a turn whose events raised `exc` (logged), with its message or ours."""
    if isinstance(exc, UpstreamStreamError):
        log.warning("upstream stream failed", error=str(exc.__cause__ or exc))
        return Stop(
            Outcome.UPSTREAM_ERROR, ErrorEvent(chunk=exc.chunk, message=exc.message, code=exc.code)
        )
    log.error("stream failed", exc_info=exc)
    error = ErrorEvent(message=INTERNAL_ERROR, source="gateway", code="internal")
    return Stop(Outcome.UPSTREAM_ERROR, error)


@dataclass(slots=True)
class StreamResult:
    """What happened on one stream."""

    outcome: StrEnum = Outcome.COMPLETED
    frames: int = 0
    heartbeats: int = 0
    first_event_seconds: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    """The token counts the stream's `end` reports (what the upstream reported so far)."""


class ClientGone(Exception):
    """Writing to the client failed: it has disconnected."""


class ClientStalled(ClientGone):
    """The client stopped reading: a write did not complete within the write timeout."""


class SinkFailed(Exception):
    """The buffer's sink failed for good: the stream ends at once, with `stop`'s outcome.

    Nothing more can be written there, so `stop`'s error goes nowhere from the pump.
    """

    def __init__(self, stop: Stop) -> None:
        super().__init__(stop.error.message)
        self.stop = stop


class TooLarge(Exception):
    """The buffer refuses an event's frames: the stream is over its budget.

    The pump then sends the `stop` error and the terminal frame, which the buffer must accept.
    """

    def __init__(self, stop: Stop) -> None:
        super().__init__(stop.error.message)
        self.stop = stop


@dataclass(slots=True)
class EndBuilder:
    """Collects what the `end` event reports: referenced documents, usage, truncation."""

    documents: dict[str, Document] = field(default_factory=dict)
    usage: UsageSoFar = field(default_factory=UsageSoFar)

    def observe(self, event: Event) -> None:
        """Take note of one event on its way out."""
        if type(event) is TextDeltaEvent:  # most events; isinstance below goes through ABCMeta
            return
        if isinstance(event, DocumentsEvent):
            for document in event.documents:
                self.documents[document.document_id or document.url] = document
        elif isinstance(event, UsageEvent):
            self.usage.add(event)

    def build(self) -> EndEvent:
        """Return the end event for what was seen."""
        return EndEvent(
            referenced_documents=list(self.documents.values()),
            truncated=self.usage.truncated,
            input_tokens=self.usage.input_tokens,
            output_tokens=self.usage.output_tokens,
        )


class WriteBuffer:
    """Frames for a client, one write per flush: ClientGone if it left, ClientStalled if stuck.

    A write that returns without waiting (aiohttp's only waits above its buffer limit) needs no
    timer; one that waits is given `timeout` seconds to complete.
    """

    def __init__(self, write: Write, timeout: float | None) -> None:
        self._write = write
        self._timeout = timeout
        self._frames: list[FrameValue] = []
        self._loop = asyncio.get_running_loop()

    def add(self, frames: list[FrameValue], event: Event) -> bool:
        """Keep the frames for the next write."""
        self._frames += frames
        return False

    async def flush(self) -> None:
        """Write what was added in one write: the one place a live stream's frames are encoded."""
        data = encode(self._frames).encode()
        self._frames.clear()
        try:
            if self._timeout is None:
                await self._write(data)
                return
            writing = asyncio.Task(self._write(data), loop=self._loop, eager_start=True)
            if not writing.done():
                async with asyncio.timeout(self._timeout):
                    await writing
            writing.result()
        except (ConnectionError, aiohttp.ClientConnectionResetError) as exc:
            raise ClientGone from exc
        except TimeoutError as exc:
            raise ClientStalled(self._timeout) from exc


class Framer:
    """One stream's per-event step: note what `end` reports, format the event into frames."""

    def __init__(self, formatter: Formatter, end: EndBuilder) -> None:
        self._format = formatter.format
        self._observe = end.observe

    def frames(self, event: Event) -> list[FrameValue]:
        """Return the event's frames, having noted what it adds to the end event."""
        self._observe(event)
        return self._format(event)


class _Writer:
    """Frames events into the buffer and flushes it, remembering when it last wrote."""

    def __init__(self, framer: Framer, buffer: FrameBuffer, result: StreamResult) -> None:
        self._frames = framer.frames
        self._buffer = buffer
        self._result = result
        self._added = 0
        self._loop = asyncio.get_running_loop()
        self.last_write = self._loop.time()

    def add(self, event: Event) -> bool:
        """Frame one event into the buffer; True when the buffer asks for a flush now."""
        frames = self._frames(event)
        if not frames:
            return False
        flush = self._buffer.add(frames, event)
        self._added += len(frames)
        return flush

    async def flush(self) -> None:
        """Hand on what was added, if anything."""
        if not self._added:
            return
        added, self._added = self._added, 0
        await self._buffer.flush()
        self.last_write = self._loop.time()
        self._result.frames += added

    async def send(self, event: Event) -> None:
        """Frame one event and hand its frames on at once."""
        self.add(event)
        await self.flush()


async def run_stream(
    turn: Turn,
    formatter: Formatter,
    write: Write,
    *,
    heartbeat_interval: float,
    stream_timeout: float,
    write_timeout: float | None = None,
    stop: asyncio.Future[None] | None = None,
) -> StreamResult:
    """Pump one turn to the client; always ends with the format's terminal frame if it can write.

    A write that takes longer than `write_timeout` (a client that stopped reading) ends the
    stream; `stop` resolving (the service is draining) ends it with an error frame and `end`.
    The frames of events that arrive together go out in one write.
    """
    return await pump_batches(
        turn,
        formatter,
        WriteBuffer(write, write_timeout),
        heartbeat_interval=heartbeat_interval,
        stream_timeout=stream_timeout,
        stop=stop,
    )


async def pump_batches(
    turn: Turn,
    formatter: Formatter,
    buffer: FrameBuffer,
    *,
    heartbeat_interval: float,
    stream_timeout: float,
    stop: asyncio.Future[None] | None = None,
    interrupt: asyncio.Future[Stop] | None = None,
    end: EndBuilder | None = None,
) -> StreamResult:
    """Pump one turn into `buffer`, one flush per batch of events; always ends with `end`.

    Events the upstream has ready are taken at once, without a timer; only when none is ready
    does the pump wait, for the next event, the heartbeat deadline, `stop` or `interrupt`.
    After MAX_BATCH events taken without waiting, it lets the event loop run once.
    Every early end is a Stop, whose error frame and `end` close the stream: `stop` resolving
    (the service is draining), `interrupt` resolving (to its Stop), the stream timeout, a
    failed read, a buffer raising TooLarge. A buffer raising ClientGone or SinkFailed ends the
    stream at once. `end` (the caller's, who may read it as the turn goes) collects what the
    final `end` reports.
    """
    pump = _Pump(
        turn,
        formatter,
        buffer,
        EndBuilder() if end is None else end,
        heartbeat_interval=heartbeat_interval,
        stream_timeout=stream_timeout,
        stop=stop,
        interrupt=interrupt,
    )
    return await pump.run()


@dataclass(frozen=True, slots=True)
class _Heartbeat:
    """Step: nothing came for a heartbeat interval; the client gets a heartbeat."""


_HEARTBEAT = _Heartbeat()

type _Step = list[Event] | _Heartbeat | Stop | None
"""What the pump does next: deliver a batch, send a heartbeat, stop early, or end (None)."""


class _Pump:
    """One turn's pump, as small steps: wait for the next step; deliver it; stop."""

    def __init__(
        self,
        turn: Turn,
        formatter: Formatter,
        buffer: FrameBuffer,
        end: EndBuilder,
        *,
        heartbeat_interval: float,
        stream_timeout: float,
        stop: asyncio.Future[None] | None,
        interrupt: asyncio.Future[Stop] | None,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._started = self._loop.time()
        self._limit = self._started + stream_timeout
        pause = getattr(turn.events, "pause", None)
        self._pause = pause if isinstance(pause, PauseClock) else None
        self._stream_timeout = stream_timeout
        self._heartbeat_interval = heartbeat_interval
        self._turn = turn
        self._end = end
        self.result = StreamResult()
        self._writer = _Writer(Framer(formatter, end), buffer, self.result)
        self._read = batch_reader(turn.events)
        self._direct = isinstance(turn.events, EventBatches) and turn.events.cancel_safe
        self._pending: asyncio.Task[list[Event]] | None = None
        self._ready = 0  # events taken since the pump last let the event loop run
        self._stop = stop
        self._interrupt = interrupt
        self._wakeup = Wakeup(self._loop, [stop, interrupt])

    @property
    def _deadline(self) -> float:
        """When the turn's time is up: STREAM_TIMEOUT after its start, not counting its pauses."""
        if self._pause is None:
            return self._limit
        return self._limit + self._pause.seconds(self._loop.time())

    async def run(self) -> StreamResult:
        """Run the turn to its `end` (or until nothing more can be written); return how it went."""
        try:
            await self._writer.send(StartEvent(conversation_id=self._turn.conversation_id))
            reason = await self._deliver_all()
            if reason is not None:
                await self._send_stop(reason)
            await self._writer.send(self._end.build())
        except SinkFailed as exc:
            self.result.outcome = exc.stop.outcome
        except ClientStalled as exc:
            log.warning("client stopped reading, stream ended", write_timeout=exc.args[0])
            self.result.outcome = Outcome.CLIENT_STALLED
        except ClientGone:
            self.result.outcome = Outcome.CLIENT_GONE
        finally:
            self.result.input_tokens = self._end.usage.input_tokens
            self.result.output_tokens = self._end.usage.output_tokens
            await self._close()
        return self.result

    async def _deliver_all(self) -> Stop | None:
        """Deliver step after step; return the Stop that ends the turn early, None at its end."""
        try:
            while True:
                step = await self._next_step()
                if step is None or isinstance(step, Stop):
                    return step
                if isinstance(step, _Heartbeat):
                    self.result.heartbeats += 1
                    await self._writer.send(HeartbeatEvent())
                else:
                    await self._deliver(step)
        except TooLarge as exc:
            return exc.stop  # after the events the buffer took

    async def _next_step(self) -> _Step:
        """Wait for what comes first: a batch, the heartbeat deadline, a stop; None at the end."""
        if self._direct:
            return await self._next_read()
        while True:
            if self._pending is None:
                self._pending = asyncio.Task(self._read(), loop=self._loop, eager_start=True)
                if not self._pending.done():
                    self._pending.add_done_callback(self._wakeup.wake)
            pending = self._pending
            if not pending.done():
                self._ready = 0
                wake_at = min(self._writer.last_write + self._heartbeat_interval, self._deadline)
                if self._loop.time() < wake_at:
                    await self._wakeup.wait(wake_at)
            if self._stop is not None and self._stop.done():
                return drained()
            if self._interrupt is not None and self._interrupt.done():
                return self._interrupt.result()
            if pending.done():
                self._pending = None
                return self._batch(pending)
            now = self._loop.time()
            if now >= self._deadline:
                return timed_out(self._stream_timeout)
            if now >= self._writer.last_write + self._heartbeat_interval:
                return _HEARTBEAT

    async def _next_read(self) -> _Step:
        """`_next_step` for reads that survive cancellation: read in this task, no task per read.

        A read that waits is cancelled by the alarm or a signal (the Wakeup), then taken up
        again; ready events are taken before a heartbeat or the deadline that is due.
        """
        task = asyncio.current_task()
        assert task is not None
        wakeup = self._wakeup
        while True:
            if self._stop is not None and self._stop.done():
                return drained()
            if self._interrupt is not None and self._interrupt.done():
                return self._interrupt.result()
            wakeup.interrupt(
                task, min(self._writer.last_write + self._heartbeat_interval, self._deadline)
            )
            try:
                batch = await self._read()
            except asyncio.CancelledError:
                if not wakeup.settle():
                    raise
                now = self._loop.time()
                if now >= self._deadline:
                    return timed_out(self._stream_timeout)
                if now >= self._writer.last_write + self._heartbeat_interval:
                    return _HEARTBEAT
                continue
            except StopAsyncIteration:
                wakeup.settle()
                return None
            except Exception as exc:
                wakeup.settle()
                return read_failed(exc)
            wakeup.settle()
            if self.result.first_event_seconds is None:
                self.result.first_event_seconds = self._loop.time() - self._started
            return batch

    def _batch(self, read: asyncio.Task[list[Event]]) -> list[Event] | Stop | None:
        """Return a finished read's batch; None if the events ran out, a Stop if it failed."""
        try:
            batch = read.result()
        except StopAsyncIteration:
            return None
        except Exception as exc:
            return read_failed(exc)
        if self.result.first_event_seconds is None:
            self.result.first_event_seconds = self._loop.time() - self._started
        return batch

    async def _deliver(self, batch: list[Event]) -> None:
        """Hand one batch's frames on (flushing where the buffer asks); TooLarge if refused."""
        writer = self._writer
        for event in batch:
            if isinstance(event, ErrorEvent):
                self.result.outcome = Outcome.UPSTREAM_ERROR
            if writer.add(event):
                await writer.flush()
        await writer.flush()
        self._ready += len(batch)
        if self._ready >= MAX_BATCH:
            # Let other streams run between long runs of ready events.
            self._ready = 0
            await asyncio.sleep(0)

    async def _send_stop(self, reason: Stop) -> None:
        """Note the stop's outcome and send its error (the budget's instead, if it is refused)."""
        self.result.outcome = reason.outcome
        try:
            await self._writer.send(reason.error)
        except TooLarge as exc:
            await self._send_stop(exc.stop)

    async def _close(self) -> None:
        """Stop waiting: cancel a pending read, close the events (and the upstream request)."""
        self._wakeup.close()
        pending = self._pending
        if pending is not None:
            pending.cancel()
            await asyncio.wait({pending})
            if not pending.cancelled():
                pending.exception()
        await close_events(self._turn.events)


async def close_events(events: AsyncIterator[Event]) -> None:
    """Close an event iterator (and so its upstream request) if it can be closed."""
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
