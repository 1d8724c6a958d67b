"""A turn run apart from any connection: its frames go to the store, stamped with event ids."""

from __future__ import annotations

import asyncio

import structlog

from formatters.base import Formatter, FrameValue
from formatters.events import EndEvent, ErrorEvent, Event
from service.resume.ids import numbered, stamped
from service.resume.outcomes import ResumeOutcome
from service.resume.store import Epilogue, StoreUnavailable, StreamStore
from service.streams.pipeline import (
    EndBuilder,
    SinkFailed,
    Stop,
    TooLarge,
)
from service.streams.session import StreamSession
from service.upstream import Turn

log = structlog.get_logger(__name__)

PRODUCER_LOST = "The service instance running this answer stopped; please ask again."
INTERRUPTED = "The answer was interrupted."
STORE_LOST = "The service lost the store that keeps this answer; please ask again."


def interrupted() -> Stop:
    """Return the stop of an interrupted turn."""
    return Stop(
        ResumeOutcome.INTERRUPTED,
        ErrorEvent(message=INTERRUPTED, source="gateway", code="interrupted"),
    )


def abandoned(window: float) -> Stop:
    """Return the stop of a turn nobody followed for the whole window."""
    message = f"Nobody read this answer for {window:g} s, so it was stopped."
    return Stop(
        ResumeOutcome.ABANDONED, ErrorEvent(message=message, source="gateway", code="abandoned")
    )


def too_large(budget: int) -> Stop:
    """Return the stop of a stream over its frame budget."""
    message = f"The answer grew past the {budget} bytes this service keeps for one stream."
    return Stop(
        ResumeOutcome.TOO_LARGE, ErrorEvent(message=message, source="gateway", code="too_large")
    )


def producer_lost() -> ErrorEvent:
    """Return the error a follower gets when the replica running its turn died."""
    return ErrorEvent(message=PRODUCER_LOST, source="gateway", code="producer_lost")


def store_lost() -> ErrorEvent:
    """Return the error a stream's connections get when the stream store stops answering."""
    return ErrorEvent(message=STORE_LOST, source="gateway", code="store_unavailable")


def store_failed() -> Stop:
    """Return the stop of a turn whose store failed (its followers write `store_lost` frames)."""
    return Stop(ResumeOutcome.STORE_FAILED, store_lost())


class Producer:
    """Pumps one turn into the store; stops on interrupt, abandonment, drain or its budget."""

    def __init__(
        self,
        *,
        stream_id: str,
        turn: Turn,
        formatter: Formatter,
        store: StreamStore,
        budget: int,
    ) -> None:
        self.stream_id = stream_id
        self._turn = turn
        self._formatter = formatter
        self._store = store
        self._budget = budget
        self._seq = 0
        self._size = 0
        self._over_budget = False
        self._end = EndBuilder()
        self._stamped: list[str] = []
        self._stamped_size = 0
        self._terminal = False
        self._interrupt: asyncio.Future[Stop] = asyncio.get_running_loop().create_future()

    def stop(self, reason: Stop) -> None:
        """Ask the turn to end with this reason's error frame (the first reason wins)."""
        if not self._interrupt.done():
            self._interrupt.set_result(reason)

    async def run(self, session: StreamSession) -> None:
        """Run the session's turn to its terminal frame, then mark the stream finished."""
        with session.streaming() as ending:
            try:
                ending.result = await session.pump(
                    self._turn, self._formatter, self, interrupt=self._interrupt, end=self._end
                )
            finally:
                try:
                    await self._store.finish(self.stream_id)
                except StoreUnavailable as exc:
                    log.error("could not mark the stream finished", reason=exc.reason)

    def add(self, frames: list[FrameValue], event: Event) -> bool:
        """Stamp one event's frames for the next append; TooLarge if they would pass the budget."""
        texts = stamped(frames, numbered(self.stream_id, self._seq + len(self._stamped)))
        size = sum(len(text) for text in texts)
        kept = self._size + self._stamped_size
        if not self._over_budget and kept + size > self._budget:
            self._over_budget = True
            log.warning("stream over its frame budget", budget=self._budget, size=kept)
            raise TooLarge(too_large(self._budget))
        self._stamped += texts
        self._stamped_size += size
        self._terminal = isinstance(event, EndEvent)
        return False

    async def flush(self) -> None:
        """Append the stamped frames in one store call, with the epilogue that would follow them."""
        stamped, size, terminal = self._stamped, self._stamped_size, self._terminal
        self._stamped, self._stamped_size = [], 0
        epilogue = None
        if self._store.keeps_epilogue and not terminal:
            epilogue = self._epilogue(self._seq + len(stamped))
        try:
            await self._store.append(
                self.stream_id, self._seq, stamped, terminal=terminal, epilogue=epilogue
            )
        except StoreUnavailable as exc:
            log.error("the stream store failed; ending the turn", reason=exc.reason)
            raise SinkFailed(store_failed()) from exc
        self._seq += len(stamped)
        self._size += size

    def _epilogue(self, next_seq: int) -> Epilogue:
        """Return the error and end frames this stream would end with if its producer died now.

        They come from the formatter's `closer` (a fresh one carrying the state they need),
        stamped with the ids that follow `next_seq`'s predecessor.
        """
        try:
            frames = self._formatter.epilogue(producer_lost(), self._end.build())
        except Exception:
            log.exception("formatter has no epilogue; followers will use a fresh one's")
            frames = []
        texts = stamped(frames, numbered(self.stream_id, next_seq))
        return Epilogue(next_seq=next_seq, frames=texts)
