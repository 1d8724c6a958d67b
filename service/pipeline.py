"""The stream pump: events plus timer heartbeats → formatter → client, one terminal frame."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

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
from service.upstream import Turn

log = structlog.get_logger(__name__)

Write = Callable[[bytes], Awaitable[None]]

LOST_UPSTREAM = "The connection to the agent was lost before the answer was complete."
INTERNAL_ERROR = "The service failed while streaming the answer."


class Outcome(StrEnum):
    """How a stream ended."""

    COMPLETED = "completed"
    UPSTREAM_ERROR = "upstream_error"
    CLIENT_GONE = "client_gone"
    TIMEOUT = "timeout"


@dataclass(slots=True)
class StreamResult:
    """What happened on one stream."""

    outcome: Outcome = Outcome.COMPLETED
    frames: int = 0
    heartbeats: int = 0
    first_event_seconds: float | None = None


class ClientGone(Exception):
    """Writing to the client failed: it has disconnected."""


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


class _Writer:
    """Formats events and writes their frames, remembering when it last wrote."""

    def __init__(self, formatter: Formatter, write: Write, result: StreamResult) -> None:
        self._formatter = formatter
        self._write = write
        self._result = result
        self.last_write = asyncio.get_running_loop().time()

    async def send(self, event: Event) -> None:
        frames = self._formatter.format(event)
        if not frames:
            return
        try:
            await self._write("".join(frames).encode())
        except (ConnectionError, aiohttp.ClientConnectionResetError) as exc:
            raise ClientGone from exc
        self.last_write = asyncio.get_running_loop().time()
        self._result.frames += len(frames)


async def run_stream(
    turn: Turn,
    formatter: Formatter,
    write: Write,
    *,
    heartbeat_interval: float,
    stream_timeout: float,
) -> StreamResult:
    """Pump one turn to the client; always ends with the format's terminal frame if it can write."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + stream_timeout
    result = StreamResult()
    writer = _Writer(formatter, write, result)
    end = EndBuilder()
    events = turn.events
    pending: asyncio.Future[Event] | None = None
    try:
        await writer.send(StartEvent(conversation_id=turn.conversation_id))
        while True:
            if pending is None:
                pending = asyncio.ensure_future(_next(events))
            wake_at = min(writer.last_write + heartbeat_interval, deadline)
            done, _ = await asyncio.wait({pending}, timeout=max(wake_at - loop.time(), 0))
            if not done:
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
            except (TimeoutError, aiohttp.ClientError, ConnectionError) as exc:
                log.warning("upstream stream failed", error=f"{type(exc).__name__}: {exc}")
                result.outcome = Outcome.UPSTREAM_ERROR
                await writer.send(ErrorEvent(message=LOST_UPSTREAM, code="upstream_disconnected"))
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
        await writer.send(end.build())
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
