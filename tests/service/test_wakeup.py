"""A stream's alarm: woken by a read, its alarm time or a signal; one alarm armed at a time."""

from __future__ import annotations

import asyncio

from service.streams.wakeup import Wakeup


async def test_a_wait_returns_at_once_when_a_signal_has_resolved() -> None:
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()
    stop.set_result(None)
    wakeup = Wakeup(loop, [stop, None])
    await asyncio.wait_for(wakeup.wait(loop.time() + 3600), 5)
    wakeup.close()


async def test_a_signal_resolving_ends_a_wait() -> None:
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()
    wakeup = Wakeup(loop, [stop])
    loop.call_soon(stop.set_result, None)
    await asyncio.wait_for(wakeup.wait(loop.time() + 3600), 5)
    wakeup.close()


async def test_wake_ends_a_wait_and_the_alarm_ends_the_next() -> None:
    loop = asyncio.get_running_loop()
    wakeup = Wakeup(loop, [])
    loop.call_soon(wakeup.wake)
    await asyncio.wait_for(wakeup.wait(loop.time() + 3600), 5)
    until = loop.time() + 0.02
    await asyncio.wait_for(wakeup.wait(until), 5)
    assert loop.time() >= until - loop._clock_resolution  # type: ignore[attr-defined]
    wakeup.close()


async def test_an_earlier_alarm_still_armed_wakes_a_wait_for_a_later_time() -> None:
    loop = asyncio.get_running_loop()
    wakeup = Wakeup(loop, [])
    loop.call_soon(wakeup.wake)
    soon = loop.time() + 0.02
    await wakeup.wait(soon)  # woken before its alarm, which stays armed
    await asyncio.wait_for(wakeup.wait(loop.time() + 3600), 5)
    assert loop.time() >= soon - loop._clock_resolution  # type: ignore[attr-defined]
    wakeup.close()


async def test_a_closed_wakeup_leaves_no_callback_on_the_shared_stop_signal() -> None:
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()
    wakeups = [Wakeup(loop, [stop]) for _ in range(3)]
    assert len(stop._callbacks or []) == 3  # one per stream, not one per wait
    for wakeup in wakeups:
        await wakeup.wait(loop.time())
        wakeup.close()
    assert not stop._callbacks
