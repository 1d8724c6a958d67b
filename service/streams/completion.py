"""A non-streamed answer: one turn's events folded into one object, its client watched."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from formatters.events import ErrorEvent, Event, StartEvent
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
    input_tokens: int = 0
    output_tokens: int = 0


Fold = Callable[[Event], object]
"""Takes in a turn's events one by one: start, the upstream's, any error, then end."""


def assembled[P](payloads: Callable[[Event], Iterable[P]], add: Callable[[P], object]) -> Fold:
    """Return the fold a streaming client makes: each event's payloads, in order, into `add`.

    `payloads` is a formatter's builder, `add` its client's assembler (e.g. OpenAI's chunks
    into one `chat.completion`, as the OpenAI SDKs fold them).
    """

    def take(event: Event) -> None:
        for payload in payloads(event):
            add(payload)

    return take


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
        self._fold(event)

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
    """Read the whole turn within `stream_timeout` into `fold`.

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
            usage = reader.end.usage
            return Completed(
                Outcome.CLIENT_GONE, None, None, usage.input_tokens, usage.output_tokens
            )
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
    end = reader.end.build()
    reader.take(end)
    first = None if reader.first_event_at is None else reader.first_event_at - started
    return Completed(outcome, first, reader.error, end.input_tokens, end.output_tokens)


async def _until(condition: Callable[[], bool], every: float) -> None:
    """Return once `condition` holds, asking it every `every` seconds."""
    # aiohttp signals a closed connection to no one but a read or a write: it must be polled.
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(every)
