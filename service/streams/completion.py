"""A non-streamed answer: one turn's events folded into one object, its client watched."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from formatters.events import ErrorEvent, Event, StartEvent
from formatters.openai import ChunkBuilder, CompletionBuilder, new_completion_id
from service.streams.pipeline import (
    EndBuilder,
    Outcome,
    Stop,
    close_events,
    drained,
    read_failed,
    timed_out,
)
from service.upstream import Turn


@dataclass(slots=True)
class Completed:
    """How a non-streamed turn ended, its error if it failed, and when its first event came."""

    outcome: StrEnum
    first_event_seconds: float | None
    error: ErrorEvent | None = None


class Fold(Protocol):
    """Takes in a turn's events one by one: start, the upstream's, any error, then end."""

    def take(self, event: Event) -> None:
        """Fold one event in."""
        ...


class ChatFold:
    """Folds a turn's events into one `chat.completion`, as the OpenAI SDKs fold its chunks."""

    def __init__(self, model: str, client_tools: frozenset[str] = frozenset()) -> None:
        self._chunks = ChunkBuilder(
            completion_id=new_completion_id(),
            created=int(time.time()),
            model=model,
            include_usage=True,
            client_tools=client_tools,
        )
        self.completion = CompletionBuilder()

    def take(self, event: Event) -> None:
        """Fold one event in."""
        for payload in self._chunks.payloads(event):
            self.completion.add(payload)


class _Reader:
    """Passes a turn's events to a fold, noting the end's facts, the first event, any error."""

    def __init__(self, fold: Fold) -> None:
        self.end = EndBuilder()
        self.failed = False
        self.error: ErrorEvent | None = None
        self.first_event_at: float | None = None
        self._fold = fold

    def take(self, event: Event) -> None:
        """Pass one event on."""
        self.end.observe(event)
        if isinstance(event, ErrorEvent):
            self.error = event
        self._fold.take(event)

    async def read(self, events: AsyncIterator[Event]) -> None:
        """Fold in every event of the turn, noting when the first came and whether one failed."""
        loop = asyncio.get_running_loop()
        async for event in events:
            if self.first_event_at is None:
                self.first_event_at = loop.time()
            if isinstance(event, ErrorEvent):
                self.failed = True
            self.take(event)


async def complete_turn(
    turn: Turn,
    fold: Fold,
    *,
    client_gone: Callable[[], bool],
    check_every: float,
    stream_timeout: float,
    stop: asyncio.Future[None],
) -> Completed:
    """Read the whole turn within `stream_timeout` into `fold` (ChatFold: one `chat.completion`).

    `client_gone` is asked every `check_every` seconds: a client that left, or `stop` resolving
    (the service is draining), cancels the turn at once, as a failed write ends a stream.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    reader = _Reader(fold)
    reader.take(StartEvent(conversation_id=turn.conversation_id))
    reading = asyncio.ensure_future(reader.read(turn.events))
    watching = asyncio.ensure_future(_until(client_gone, check_every))
    try:
        await asyncio.wait(
            {reading, watching, stop}, timeout=stream_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        reason: Stop | None = None
        if reading.done():
            failure = reading.exception()
            if isinstance(failure, Exception):
                reason = read_failed(failure)
            elif failure is not None:
                raise failure
        elif watching.done():
            return Completed(Outcome.CLIENT_GONE, None)
        elif stop.done():
            reason = drained()
        else:
            reason = timed_out(stream_timeout)
    finally:
        reading.cancel()
        watching.cancel()
        await asyncio.wait({reading, watching})
        await close_events(turn.events)
    outcome: StrEnum = Outcome.UPSTREAM_ERROR if reader.failed else Outcome.COMPLETED
    if reason is not None:
        outcome = reason.outcome
        reader.take(reason.error)
    reader.take(reader.end.build())
    first = None if reader.first_event_at is None else reader.first_event_at - started
    return Completed(outcome, first, reader.error)


async def _until(condition: Callable[[], bool], every: float) -> None:
    """Return once `condition` holds, asking it every `every` seconds."""
    # aiohttp signals a closed connection to no one but a read or a write: it must be polled.
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(every)
