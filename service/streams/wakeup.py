"""A stream's one alarm: wakes its pump on a completed read, a deadline or a signal."""

from __future__ import annotations

import asyncio
import math
from typing import Any


class Wakeup:
    """Wakes one waiting pump: `wake`, its alarm time, or one of `signals` resolving.

    The pump waits in `wait`, or in a wait of its own that it hands to `interrupt`: then
    waking cancels that task, and `settle` tells (and takes back) a cancellation of its own.
    The alarm is armed lazily: a later deadline keeps the earlier alarm, which then wakes the
    pump once for nothing, so a stream whose events keep coming sets about one timer per
    deadline period rather than one per wait. The signals get their callbacks once per stream.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, signals: list[asyncio.Future[Any] | None]
    ) -> None:
        self._loop = loop
        self._signals = [signal for signal in signals if signal is not None]
        self._waiter: asyncio.Future[None] | None = None
        self._alarm: asyncio.TimerHandle | None = None
        self._alarm_at = math.inf
        self._cancel: asyncio.Task[Any] | None = None
        self._cancelled: asyncio.Task[Any] | None = None
        for signal in self._signals:
            signal.add_done_callback(self.wake)

    def wake(self, _: object = None) -> None:
        """Wake the pump if it waits (cancel the task that `interrupt` named)."""
        if (task := self._cancel) is not None:
            self._cancel, self._cancelled = None, task
            task.cancel()
            return
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, until: float) -> None:
        """Wait until woken or until loop time `until`; return at once if a signal resolved."""
        for signal in self._signals:
            if signal.done():
                return
        self._arm(until)
        self._waiter = self._loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def interrupt(self, task: asyncio.Task[Any], until: float) -> None:
        """Until `settle`, wake by cancelling `task` (at loop time `until` at the latest).

        The task's wait must survive cancellation; a signal already resolved is the caller's
        to check before.
        """
        self._arm(until)
        self._cancel = task

    def settle(self) -> bool:
        """End `interrupt`; True if waking cancelled the task (taken back) and nobody else did."""
        self._cancel = None
        task, self._cancelled = self._cancelled, None
        return task is not None and task.uncancel() == 0

    def _arm(self, until: float) -> None:
        if until < self._alarm_at:
            if self._alarm is not None:
                self._alarm.cancel()
            self._alarm = self._loop.call_at(until, self._ring)
            self._alarm_at = until

    def close(self) -> None:
        """Drop the alarm and the callbacks on the signals."""
        if self._alarm is not None:
            self._alarm.cancel()
            self._alarm, self._alarm_at = None, math.inf
        for signal in self._signals:
            signal.remove_done_callback(self.wake)

    def _ring(self) -> None:
        self._alarm, self._alarm_at = None, math.inf
        self.wake()
