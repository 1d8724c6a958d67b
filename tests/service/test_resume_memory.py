"""The in-process stream store (service/resume/memory.py): replay, follow, expiry, bounds."""

from __future__ import annotations

import asyncio
import contextlib

from service.resume.memory import MemoryStore
from service.resume.store import Batch, StreamMeta


def meta(stream_id: str) -> StreamMeta:
    return StreamMeta(stream_id=stream_id, format="raw", media_type="text/event-stream")


def no_fallback(after: int) -> list[str]:
    raise AssertionError(f"the store fell back after {after}: nothing here expects it")


async def collect(store: MemoryStore, stream_id: str, after: int) -> list[Batch]:
    return [batch async for batch in store.follow(stream_id, after, no_fallback)]


async def test_a_follower_replays_after_its_sequence_then_gets_live_frames_to_the_terminal():
    store = MemoryStore(window=10, finished_bytes=10_000)
    await store.create(meta("s1"))
    await store.append("s1", 0, ["a0", "a1", "a2"])
    follower = asyncio.create_task(collect(store, "s1", 0))
    await asyncio.sleep(0.01)
    await store.append("s1", 3, ["a3"])
    await store.append("s1", 4, ["a4", "end"], terminal=True)
    batches = await asyncio.wait_for(follower, 1)
    assert [frame for batch in batches for frame in batch.frames] == ["a1", "a2", "a3", "a4", "end"]
    assert batches[0] == Batch(["a1", "a2"], 2, False)
    assert batches[-1].terminal and batches[-1].last_seq == 5


async def test_a_stream_that_finishes_without_a_terminal_frame_ends_its_followers():
    store = MemoryStore(window=10, finished_bytes=10_000)
    await store.create(meta("s1"))
    await store.append("s1", 0, ["a0"])
    follower = asyncio.create_task(collect(store, "s1", -1))
    await asyncio.sleep(0.01)
    await store.finish("s1")
    assert [batch.frames for batch in await asyncio.wait_for(follower, 1)] == [["a0"]]
    finished = await store.meta("s1")
    assert finished is not None
    assert finished.done is True


async def test_followers_count_until_they_leave_then_the_window_runs():
    store = MemoryStore(window=0.2, finished_bytes=10_000)
    await store.create(meta("s1"))
    assert (await store.checkup(["s1"])).abandoned == frozenset()
    follower = store.follow("s1", -1, no_fallback)
    waiting = asyncio.create_task(anext(follower))
    await asyncio.sleep(0.3)
    assert (await store.checkup(["s1"])).abandoned == frozenset()
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    await follower.aclose()
    assert (await store.checkup(["s1"])).abandoned == frozenset()
    await asyncio.sleep(0.25)
    assert (await store.checkup(["s1"])).abandoned == {"s1"}


async def test_finished_streams_are_dropped_after_the_window():
    store = MemoryStore(window=0.1, finished_bytes=10_000)
    await store.create(meta("s1"))
    await store.append("s1", 0, ["end"], terminal=True)
    await store.finish("s1")
    assert await store.meta("s1") is not None
    await asyncio.sleep(0.15)
    assert await store.meta("s1") is None
    assert (len(store), store.finished_size) == (0, 0)


async def test_finished_streams_over_the_byte_bound_are_dropped_oldest_first():
    store = MemoryStore(window=60, finished_bytes=25)
    for name in ("s1", "s2", "s3"):
        await store.create(meta(name))
        await store.append(name, 0, ["x" * 10], terminal=True)
        await store.finish(name)
    assert await store.meta("s1") is None
    assert await store.meta("s2") is not None and await store.meta("s3") is not None
    assert store.finished_size == 20
    await store.create(meta("running"))
    await store.append("running", 0, ["y" * 100])
    assert await store.meta("running") is not None


async def test_an_interrupt_is_claimed_once():
    store = MemoryStore(window=60, finished_bytes=100)
    await store.create(meta("s1"))
    assert await store.claim_interrupt("s1") is True
    assert await store.claim_interrupt("s1") is False
    assert await store.claim_interrupt("unknown") is False
