"""A stream's pause clock: the time spent waiting for a person, which the time limit leaves out."""

from __future__ import annotations


class PauseClock:
    """Adds up the pauses of one stream (loop time); `seconds` counts a pause still running."""

    def __init__(self) -> None:
        self._total = 0.0
        self._since: float | None = None

    def start(self, now: float) -> None:
        """Begin a pause at loop time `now` (a running one goes on)."""
        if self._since is None:
            self._since = now

    def stop(self, now: float) -> None:
        """End the pause at loop time `now`."""
        if self._since is not None:
            self._total += now - self._since
            self._since = None

    def seconds(self, now: float) -> float:
        """Return the seconds paused up to loop time `now`."""
        running = 0.0 if self._since is None else now - self._since
        return self._total + running
