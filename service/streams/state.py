"""Typed application state keys and the per-app stream bookkeeping (count, drain signal)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from service.errors import Rejected, refusal
from service.route_spec import Header

TOO_MANY_STREAMS = refusal(
    "More than MAX_CONCURRENT_STREAMS streams are open; retry after `Retry-After` seconds.",
    headers={"Retry-After": Header(required=True)},
)
"""What `ActiveStreams.slot` refuses when full (routes that hold a slot declare it)."""
DRAINING = refusal("This instance is draining.")
"""What `ActiveStreams.slot` refuses while the instance shuts down."""
SLOT_REFUSALS = {429: TOO_MANY_STREAMS, 503: DRAINING}
"""What a route that holds a stream slot declares."""


@dataclass(slots=True)
class ActiveStreams:
    """The streams this app is serving: how many, whether it drains, and the signal to stop."""

    count: int = 0
    draining: bool = False
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    _stop: asyncio.Future[None] | None = None

    def admit(self, limit: int) -> None:
        """Open one stream slot (`closed` gives it back); Rejected: 429 when full, 503 draining."""
        if self.draining:
            raise Rejected(503, "Draining", "This instance is shutting down; retry on another.")
        if self.count >= limit:
            raise Rejected(
                429,
                "Too many streams",
                f"This instance serves at most {limit} streams at once.",
                headers={"Retry-After": "1"},
            )
        self.opened()

    def opened(self) -> None:
        """Count one more open stream."""
        self.count += 1
        self._idle.clear()

    def closed(self) -> None:
        """Count one stream less."""
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def idle(self) -> None:
        """Wait until no stream is open."""
        while self.count:
            await self._idle.wait()

    def stop_signal(self) -> asyncio.Future[None]:
        """Return the future every stream watches; it resolves when open streams must end."""
        if self._stop is None:
            self._stop = asyncio.get_running_loop().create_future()
        return self._stop
