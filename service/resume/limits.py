"""Follower slots: how many followers one stream, and all streams, may have on this instance."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from service.errors import Rejected, refusal
from service.route_spec import Header, resumable

RETRY_AFTER = "1"
"""Seconds a refused follower is told to wait (`Retry-After`)."""
TOO_MANY_FOLLOWERS = refusal(
    "The stream, or this instance, has as many followers as it serves; retry after "
    "`Retry-After` seconds.",
    headers={"Retry-After": Header(required=True)},
    when=resumable,
)
"""What `FollowerSlots.slot` refuses (routes that follow a stream declare it)."""


class FollowerSlots:
    """Counts this instance's followers per stream and in all; refuses those over a limit."""

    def __init__(self, *, per_stream: int, total: int) -> None:
        self._per_stream = per_stream
        self._total = total
        self._counts: Counter[str] = Counter()
        self.count = 0
        """Followers served now."""

    @contextmanager
    def slot(self, stream_id: str) -> Iterator[None]:
        """Hold one follower slot of the stream; raise Rejected (429) when a limit is reached."""
        if self._counts[stream_id] >= self._per_stream:
            raise _too_many(f"A stream has at most {self._per_stream} followers at once.")
        if self.count >= self._total:
            raise _too_many(f"This instance serves at most {self._total} followers at once.")
        self._counts[stream_id] += 1
        self.count += 1
        try:
            yield
        finally:
            self.count -= 1
            self._counts[stream_id] -= 1
            if not self._counts[stream_id]:
                del self._counts[stream_id]


def _too_many(cause: str) -> Rejected:
    return Rejected(429, "Too many followers", cause, headers={"Retry-After": RETRY_AFTER})
