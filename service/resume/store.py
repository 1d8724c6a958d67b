"""What a resumable-stream store does: keep a stream's frames, replay them, follow it live."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

LIVENESS_TTL = 3.0
"""Seconds the liveness key of a running turn lives unless its replica renews it."""
RENEW_EVERY = 0.5
"""How often a replica renews the liveness keys of its turns and checks on them."""


@dataclass(frozen=True, slots=True)
class StreamMeta:
    """What a follower needs to serve a stream: its format, response headers and owner."""

    stream_id: str
    format: str
    media_type: str
    headers: Mapping[str, str] = field(default_factory=dict)
    owner: str | None = None
    conversation_id: str = ""
    done: bool = False


@dataclass(frozen=True, slots=True)
class Batch:
    """Stamped frames in order; `last_seq` is the sequence of the last one."""

    frames: list[str]
    last_seq: int
    terminal: bool = False


Fallback = Callable[[int], list[str]]
"""The closing frames of a stream whose producer left no Epilogue, stamped from a sequence on."""


@dataclass(frozen=True, slots=True)
class Epilogue:
    """The frames that end a stream whose producer died: its error frame and terminal frame.

    Stamped with the ids of the sequences from `next_seq` on.
    """

    next_seq: int
    frames: list[str]


@dataclass(frozen=True, slots=True)
class Checkup:
    """What a store says about the turns running here: which nobody follows, which to stop."""

    abandoned: frozenset[str] = frozenset()
    interrupted: frozenset[str] = frozenset()


class StoreUnavailable(Exception):
    """The store cannot be reached; `reason` is safe to show to a client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StreamStore(Protocol):
    """Keeps the frames of resumable streams for `window` seconds after they end."""

    keeps_epilogue: bool
    """Whether producers must leave an Epilogue (other replicas may outlive them)."""

    async def create(self, meta: StreamMeta) -> None:
        """Register a new running stream."""
        ...

    async def append(
        self,
        stream_id: str,
        first_seq: int,
        frames: Sequence[str],
        *,
        terminal: bool = False,
        epilogue: Epilogue | None = None,
    ) -> None:
        """Store stamped frames from `first_seq` on; `terminal` marks the stream's last frame."""
        ...

    async def finish(self, stream_id: str) -> None:
        """Mark the stream ended (idempotent); its frames are kept for the window from now."""
        ...

    async def meta(self, stream_id: str) -> StreamMeta | None:
        """Return the stream's metadata, or None if it is unknown or expired."""
        ...

    def follow(self, stream_id: str, after: int, fallback: Fallback) -> AsyncGenerator[Batch, None]:
        """Yield the frames after `after`, then live ones, up to the terminal frame.

        The follower counts as attached while it iterates. If the producer died, the store
        ends the stream with its Epilogue (or the `fallback` frames when it left none).
        """
        ...

    async def claim_interrupt(self, stream_id: str) -> bool:
        """Record an interrupt request; False if one was made already."""
        ...

    async def checkup(self, stream_ids: Sequence[str]) -> Checkup:
        """Renew the liveness of these local turns; say which are abandoned or interrupted."""
        ...

    async def close(self) -> None:
        """Release the store's resources."""
        ...
