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
from service.upstream import Turn, UpstreamStreamError
from service.upstream.batches import MAX_BATCH, batch_reader
from service.wakeup import Wakeup

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
    """How a stream ended."""

    COMPLETED = "completed"
    UPSTREAM_ERROR = "upstream_error"
    CLIENT_GONE = "client_gone"
    CLIENT_STALLED = "client_stalled"
    TIMEOUT = "timeout"
    DRAINED = "drained"
    INTERRUPTED = "interrupted"
    ABANDONED = "abandoned"
    TOO_LARGE = "too_large"
    STORE_FAILED = "store_failed"


@dataclass(frozen=True, slots=True)
class Stop:
    """A reason to end a stream early: its outcome and the error event its clients get."""

    outcome: Outcome
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

    outcome: Outcome = Outcome.COMPLETED
    frames: int = 0
    heartbeats: int = 0
    first_event_seconds: float | None = None


class ClientGone(Exception):
    """Writing to the client failed: it has disconnected."""


class ClientStalled(ClientGone):
    """The client stopped reading: a write did not complete within the write timeout."""


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
    usage: UsageEvent = field(default_factory=UsageEvent)

    def observe(self, event: Event) -> None:
        """Take note of one event on its way out."""
        if type(event) is TextDeltaEvent:  # most events; isinstance below goes through ABCMeta
            return
        if isinstance(event, DocumentsEvent):
            for document in event.documents:
                self.documents[document.document_id or document.url] = document
        elif isinstance(event, UsageEvent):
            self.usage = event

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


class _Writer:
    """Formats events into the buffer and flushes it, remembering when it last wrote."""

    def __init__(self, formatter: Formatter, buffer: FrameBuffer, result: StreamResult) -> None:
        self._format = formatter.format
        self._buffer = buffer
        self._result = result
        self._added = 0
        self._loop = asyncio.get_running_loop()
        self.last_write = self._loop.time()

    def add(self, event: Event) -> bool:
        """Format one event into the buffer; True when the buffer asks for a flush now."""
        frames = self._format(event)
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
        """Format one event and hand its frames on at once."""
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
    `stop` resolving (the service is draining) ends the stream with an error frame and `end`;
    so does `interrupt`, with the error and outcome it resolves to. A buffer raising ClientGone
    ends the stream at once; one raising TooLarge gets its error frame and `end`. `end` (one
    of the caller's, who may read it as the turn goes) collects what the final `end` reports.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + stream_timeout
    result = StreamResult()
    writer = _Writer(formatter, buffer, result)
    end = EndBuilder() if end is None else end
    events = turn.events
    read = batch_reader(events)
    pending: asyncio.Task[list[Event]] | None = None
    ready = 0  # events taken since the pump last let the event loop run
    wakeup = Wakeup(loop, [stop, interrupt])
    try:
        try:
            await writer.send(StartEvent(conversation_id=turn.conversation_id))
            while True:
                if pending is None:
                    pending = asyncio.Task(read(), loop=loop, eager_start=True)
                    if not pending.done():
                        pending.add_done_callback(wakeup.wake)
                if not pending.done():
                    ready = 0
                    wake_at = min(writer.last_write + heartbeat_interval, deadline)
                    if loop.time() < wake_at:
                        await wakeup.wait(wake_at)
                if stop is not None and stop.done():
                    reason = drained()
                    result.outcome = reason.outcome
                    await writer.send(reason.error)
                    break
                if interrupt is not None and interrupt.done():
                    reason = interrupt.result()
                    result.outcome = reason.outcome
                    await writer.send(reason.error)
                    break
                if not pending.done():
                    now = loop.time()
                    if now >= deadline:
                        reason = timed_out(stream_timeout)
                        result.outcome = reason.outcome
                        await writer.send(reason.error)
                        break
                    if now >= writer.last_write + heartbeat_interval:
                        result.heartbeats += 1
                        await writer.send(HeartbeatEvent())
                    continue
                task, pending = pending, None
                try:
                    batch = task.result()
                except StopAsyncIteration:
                    break
                except Exception as exc:
                    reason = read_failed(exc)
                    result.outcome = reason.outcome
                    await writer.send(reason.error)
                    break
                if result.first_event_seconds is None:
                    result.first_event_seconds = loop.time() - started
                for event in batch:
                    if isinstance(event, ErrorEvent):
                        result.outcome = Outcome.UPSTREAM_ERROR
                    end.observe(event)
                    if writer.add(event):
                        await writer.flush()
                await writer.flush()
                ready += len(batch)
                if ready >= MAX_BATCH:
                    # Let other streams run between long runs of ready events.
                    ready = 0
                    await asyncio.sleep(0)
        except TooLarge as exc:
            result.outcome = exc.stop.outcome
            await writer.send(exc.stop.error)  # after the batch's events the buffer took
        await writer.send(end.build())
    except ClientStalled as exc:
        log.warning("client stopped reading, stream ended", write_timeout=exc.args[0])
        result.outcome = Outcome.CLIENT_STALLED
    except ClientGone:
        result.outcome = Outcome.CLIENT_GONE
    finally:
        wakeup.close()
        if pending is not None:
            pending.cancel()
            await asyncio.wait({pending})
            if not pending.cancelled():
                pending.exception()
        await close_events(events)
    return result


async def close_events(events: AsyncIterator[Event]) -> None:
    """Close an event iterator (and so its upstream request) if it can be closed."""
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
