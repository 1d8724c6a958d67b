"""The stream pump: events plus timer heartbeats → formatter → client, one terminal frame."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import aiohttp
import structlog

from formatters.base import Formatter
from formatters.events import (
    Document,
    DocumentsEvent,
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    StartEvent,
    UsageEvent,
)
from service.upstream import Turn, UpstreamStreamError

log = structlog.get_logger(__name__)

Write = Callable[[bytes], Awaitable[None]]
FrameSink = Callable[[list[str], Event], Awaitable[None]]
"""Takes the frames of one event (never empty), with the event they came from."""

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
    """The sink refuses an event's frames: the stream is over its budget.

    The pump then sends the `stop` error and the terminal frame, which the sink must accept.
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


def write_sink(write: Write, timeout: float | None) -> FrameSink:
    """Return a sink writing frames to a client: ClientGone if it left, ClientStalled if stuck."""

    async def sink(frames: list[str], event: Event) -> None:
        try:
            async with asyncio.timeout(timeout):
                await write("".join(frames).encode())
        except (ConnectionError, aiohttp.ClientConnectionResetError) as exc:
            raise ClientGone from exc
        except TimeoutError as exc:
            raise ClientStalled(timeout) from exc

    return sink


class _Writer:
    """Formats events and hands their frames to the sink, remembering when it last wrote."""

    def __init__(self, formatter: Formatter, sink: FrameSink, result: StreamResult) -> None:
        self._formatter = formatter
        self._sink = sink
        self._result = result
        self.last_write = asyncio.get_running_loop().time()

    async def send(self, event: Event) -> None:
        frames = self._formatter.format(event)
        if not frames:
            return
        await self._sink(frames, event)
        self.last_write = asyncio.get_running_loop().time()
        self._result.frames += len(frames)


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
    """
    return await pump_stream(
        turn,
        formatter,
        write_sink(write, write_timeout),
        heartbeat_interval=heartbeat_interval,
        stream_timeout=stream_timeout,
        stop=stop,
    )


async def pump_stream(
    turn: Turn,
    formatter: Formatter,
    sink: FrameSink,
    *,
    heartbeat_interval: float,
    stream_timeout: float,
    stop: asyncio.Future[None] | None = None,
    interrupt: asyncio.Future[Stop] | None = None,
) -> StreamResult:
    """Pump one turn into `sink`, frames by event; always ends with the terminal frame.

    `stop` resolving (the service is draining) ends the stream with an error frame and `end`;
    so does `interrupt`, with the error and outcome it resolves to. A sink raising ClientGone
    ends the stream at once; one raising TooLarge gets its error frame and `end`.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + stream_timeout
    result = StreamResult()
    writer = _Writer(formatter, sink, result)
    end = EndBuilder()
    events = turn.events
    pending: asyncio.Future[Event] | None = None
    try:
        try:
            await writer.send(StartEvent(conversation_id=turn.conversation_id))
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(_next(events))
                wake_at = min(writer.last_write + heartbeat_interval, deadline)
                waiters: set[asyncio.Future[Any]] = {pending}
                if stop is not None:
                    waiters.add(stop)
                if interrupt is not None:
                    waiters.add(interrupt)
                timeout = max(wake_at - loop.time(), 0)
                await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if stop is not None and stop.done():
                    result.outcome = Outcome.DRAINED
                    await writer.send(ErrorEvent(message=DRAINED, source="gateway", code="drained"))
                    break
                if interrupt is not None and interrupt.done():
                    reason = interrupt.result()
                    result.outcome = reason.outcome
                    await writer.send(reason.error)
                    break
                if not pending.done():
                    if loop.time() >= deadline:
                        result.outcome = Outcome.TIMEOUT
                        await writer.send(
                            ErrorEvent(
                                message=_timeout_message(stream_timeout),
                                source="gateway",
                                code="timeout",
                            )
                        )
                        break
                    result.heartbeats += 1
                    await writer.send(HeartbeatEvent())
                    continue
                task, pending = pending, None
                try:
                    event = task.result()
                except StopAsyncIteration:
                    break
                except UpstreamStreamError as exc:
                    log.warning("upstream stream failed", error=str(exc.__cause__ or exc))
                    result.outcome = Outcome.UPSTREAM_ERROR
                    await writer.send(ErrorEvent(message=exc.message, code=exc.code))
                    break
                except Exception:
                    log.exception("stream failed")
                    result.outcome = Outcome.UPSTREAM_ERROR
                    await writer.send(
                        ErrorEvent(message=INTERNAL_ERROR, source="gateway", code="internal")
                    )
                    break
                if result.first_event_seconds is None:
                    result.first_event_seconds = loop.time() - started
                if isinstance(event, ErrorEvent):
                    result.outcome = Outcome.UPSTREAM_ERROR
                end.observe(event)
                await writer.send(event)
        except TooLarge as exc:
            result.outcome = exc.stop.outcome
            await writer.send(exc.stop.error)
        await writer.send(end.build())
    except ClientStalled as exc:
        log.warning("client stopped reading, stream ended", write_timeout=exc.args[0])
        result.outcome = Outcome.CLIENT_STALLED
    except ClientGone:
        result.outcome = Outcome.CLIENT_GONE
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.wait({pending})
            if not pending.cancelled():
                pending.exception()
        await close_events(events)
    return result


def _timeout_message(seconds: float) -> str:
    return f"The answer took longer than the {seconds:g} s this service allows."


async def _next(events: AsyncIterator[Event]) -> Event:
    return await anext(events)


async def close_events(events: AsyncIterator[Event]) -> None:
    """Close an event iterator (and so its upstream request) if it can be closed."""
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
