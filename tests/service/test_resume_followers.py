"""Followers inside limits of their own: per stream and in all (429 with Retry-After), a Redis
pool of their own that producers never wait behind, and one Redis reader per followed stream."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import redis.asyncio as redis

from fakes.agents_upstream import FakeAgentsUpstream, Sleep, fixture_steps
from tests.conftest import split_frames

QUERY = {"query": "Say hello."}
ID_LINE = re.compile(r"^id: .*\n", re.MULTILINE)
CONVERSATION = re.compile(r'"conversation_id": "[^"]*"')


def without_ids(body: str) -> str:
    """The body without its `id:` lines and with no conversation id (each turn has its own)."""
    return CONVERSATION.sub('"conversation_id": ""', ID_LINE.sub("", body))


def too_many(cause: str) -> dict[str, Any]:
    return {"detail": {"response": "Too many followers", "cause": cause}}


@pytest.fixture
async def service(agents_client: Any) -> AsyncIterator[Any]:
    """Make the service with resume on; close it (ending its turns) before the fake upstream."""
    made: list[Any] = []

    async def make(**overrides: Any) -> Any:
        client = await agents_client(resume_window=30, drain_timeout=0, **overrides)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session without a connection limit (the test client's stops at 100)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as opened:
        yield opened


async def running_stream(client: Any, headers: dict[str, str] | None = None) -> str:
    """Start a turn that waits a minute after its first events; return its stream id."""
    response = await client.post("/v1/streaming_query", json=QUERY, headers=headers)
    assert response.status == 200
    await response.content.readuntil(b"\n\n")
    return str(response.headers["X-Stream-ID"])


async def refused(response: Any) -> tuple[int, str | None, Any]:
    return response.status, response.headers.get("Retry-After"), await response.json()


async def test_a_stream_s_ninth_follower_gets_429_until_one_of_its_eight_leaves(
    service, fake_agents: FakeAgentsUpstream, store
):
    fake_agents.steps = [*fixture_steps("text.sse")[:4], Sleep(60)]
    client = await service(heartbeat_interval=0.2, **store)
    stream_id = await running_stream(client)
    url = f"/v1/streams/{stream_id}"
    followers = [await client.get(url) for _ in range(8)]
    assert [follower.status for follower in followers] == [200] * 8
    full = too_many("A stream has at most 8 followers at once.")
    assert await refused(await client.get(url)) == (429, "1", full)
    resuming = await client.post(
        "/v1/streaming_query", json=QUERY, headers={"Last-Event-ID": f"{stream_id}:0"}
    )
    assert await refused(resuming) == (429, "1", full)
    other = await running_stream(client)
    assert (await client.get(f"/v1/streams/{other}")).status == 200
    followers.pop().close()
    for _ in range(50):  # the service notices the leaver at its next heartbeat write
        again = await client.get(url)
        if again.status == 200:
            break
        assert await refused(again) == (429, "1", full)
        await asyncio.sleep(0.1)
    assert again.status == 200
    assert (await again.content.readuntil(b"\n\n")).startswith(b'data: {"event": "start"')


async def test_followers_in_all_are_bounded_by_max_concurrent_streams_unless_set(
    service, fake_agents: FakeAgentsUpstream, store
):
    fake_agents.steps = [*fixture_steps("text.sse")[:4], Sleep(60)]
    client = await service(max_concurrent_streams=2, **store)
    one, two = await running_stream(client), await running_stream(client)
    assert (await client.get(f"/v1/streams/{one}")).status == 200
    assert (await client.get(f"/v1/streams/{two}")).status == 200
    answer = await refused(await client.get(f"/v1/streams/{one}"))
    assert answer == (429, "1", too_many("This instance serves at most 2 followers at once."))
    raised = await service(max_concurrent_streams=1, max_concurrent_followers=3, **store)
    three = await running_stream(raised)
    assert [(await raised.get(f"/v1/streams/{three}")).status for _ in range(4)] == [
        200,
        200,
        200,
        429,
    ]


async def blocked_in_xread(url: str) -> int:
    """Count the Redis clients waiting in XREAD BLOCK now."""
    admin = redis.Redis.from_url(url, decode_responses=True)
    try:
        clients = await admin.client_list()
    finally:
        await admin.aclose()
    return sum(1 for c in clients if c["cmd"] == "xread" and "b" in c["flags"])


@pytest.mark.redis
async def test_a_hundred_followers_leave_another_user_s_stream_whole_on_one_redis_reader(
    service, fake_agents: FakeAgentsUpstream, redis_url: str, session: Any
):
    # Before: each follower held a pooled connection in XREAD BLOCK, and the producers shared
    # that pool (4 x MAX_CONCURRENT_STREAMS + 64 = 84 connections): Bob's stream failed.
    steps = fixture_steps("text.sse")
    fake_agents.steps = steps
    client = await service(
        heartbeat_interval=5,
        redis_url=redis_url,
        max_concurrent_streams=5,
        max_followers_per_stream=100,
        max_concurrent_followers=100,
        auth_mode="api-key",
        auth_api_keys="alice:key-a,bob:key-b",
    )
    alice, bob = {"Authorization": "Bearer key-a"}, {"Authorization": "Bearer key-b"}
    alone = await client.post("/v1/streaming_query", json=QUERY, headers=bob)
    expected = without_ids((await alone.read()).decode())
    fake_agents.steps = [*steps[:4], Sleep(60)]
    stream_id = await running_stream(client, alice)
    base = str(client.make_url("")).rstrip("/")
    url = f"{base}/v1/streams/{stream_id}"
    followers = await asyncio.gather(*(session.get(url, headers=alice) for _ in range(100)))
    try:
        assert [follower.status for follower in followers] == [200] * 100
        firsts = await asyncio.gather(*(f.content.readuntil(b"\n\n") for f in followers))
        assert len({first.split(b"\n")[0] for first in firsts}) == 1
        assert firsts[0].startswith(b'data: {"event": "start", "data": {"conversation_id": ')
        assert firsts[0].endswith(f"\nid: {stream_id}:0\n\n".encode())
        refused_one = await session.get(url, headers=alice)
        assert refused_one.status == 429
        readers = [await blocked_in_xread(redis_url) for _ in range(5)]
        fake_agents.steps = steps
        other = await client.post("/v1/streaming_query", json=QUERY, headers=bob)
        body = (await other.read()).decode()
        assert other.status == 200
        assert without_ids(body) == expected
        frames = split_frames(body.encode())
        names = [json.loads(f.split("\n")[0].removeprefix("data: "))["event"] for f in frames]
        assert names[-2:] == ["turn_complete", "end"]
        # one reader for Alice's hundred followers, and none left waiting for Bob's stream
        assert max(readers) <= 1
        for _ in range(20):
            if await blocked_in_xread(redis_url) == 1:
                break
            await asyncio.sleep(0.1)
        assert await blocked_in_xread(redis_url) == 1
    finally:
        for follower in followers:
            follower.close()
