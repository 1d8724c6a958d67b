"""Pump a turn event by event into a callback: what a test needs to see every event's frames."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from formatters.base import Formatter, FrameValue
from formatters.events import Event
from formatters.frames import encode_frame
from service.streams.pipeline import StreamResult, pump_batches
from service.upstream import Turn

FrameSink = Callable[[list[str], Event], Awaitable[None]]
"""Takes the frames of one event (never empty), with the event they came from."""


class EachEvent:
    """A FrameBuffer that hands every event's frames to a FrameSink on its own."""

    def __init__(self, sink: FrameSink) -> None:
        self._sink = sink
        self._added: list[tuple[list[str], Event]] = []

    def add(self, frames: list[FrameValue], event: Event) -> bool:
        """Keep the event (its frames as the stream writes them) for the flush that must follow."""
        self._added.append(([encode_frame(frame) for frame in frames], event))
        return True

    async def flush(self) -> None:
        """Hand the kept event to the sink."""
        added, self._added = self._added, []
        for frames, event in added:
            await self._sink(frames, event)


async def pump_each(
    turn: Turn, formatter: Formatter, sink: FrameSink, **settings: Any
) -> StreamResult:
    """`pump_batches` with every event's frames handed to `sink` on their own."""
    return await pump_batches(turn, formatter, EachEvent(sink), **settings)
