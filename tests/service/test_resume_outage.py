"""Redis dying under resumable streams: every open stream ends with its error and terminal
frames, new requests get 503 JSON, and the service serves again soon after Redis is back."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from fakes.agents_upstream import FakeAgentsUpstream, Sleep, fixture_steps
from tests.conftest import split_frames
from tests.service.redis_server import RedisProcess, redis_process, require_redis_server
from tests.service.sse_reader import SseReader

pytestmark = pytest.mark.redis

QUERY = {"query": "Say hello."}
STORE_LOST = "The service lost the store that keeps this answer; please ask again."
ERROR_FRAMES = {
    "patternfly": [
        {
            "event": "error",
            "data": {
                "id": 0,
                "token": STORE_LOST,
                "response": "The answer was lost",
                "cause": STORE_LOST,
            },
        },
        {
            "event": "end",
            "data": {
                "referenced_documents": [],
                "truncated": None,
                "input_tokens": 0,
                "output_tokens": 0,
            },
            "available_quotas": {},
        },
    ],
    "openai": [
        {
            "error": {
                "message": STORE_LOST,
                "type": "server_error",
                "param": None,
                "code": "store_unavailable",
            }
        },
        "[DONE]",
    ],
}


@pytest.fixture
def redis() -> Iterator[RedisProcess]:
    """A redis-server of this test's own, to kill."""
    with redis_process(require_redis_server()) as server:
        yield server


def data_of(reader: SseReader) -> list[Any]:
    return [e.data if e.data == "[DONE]" else json.loads(e.data) for e in reader.events]


async def read_events(response: aiohttp.ClientResponse, reader: SseReader, count: int) -> None:
    while len(reader.events) < count:
        chunk = await response.content.readany()
        assert chunk, "the stream ended early"
        reader.feed(chunk.decode())


@pytest.mark.parametrize("format_name", ["patternfly", "openai"])
async def test_redis_killed_mid_stream_ends_the_producer_s_and_followers_streams_honestly(
    agents_client: Any, fake_agents: FakeAgentsUpstream, redis: RedisProcess, format_name: str
):
    fake_agents.steps = [*fixture_steps("text.sse")[:4], Sleep(60)]
    client = await agents_client(resume_window=30, heartbeat_interval=0.3, redis_url=redis.url)
    first = await client.post(f"/v1/streaming_query?format={format_name}", json=QUERY)
    stream_id = first.headers["X-Stream-ID"]
    started = SseReader()
    await read_events(first, started, 3)
    follower = await client.get(f"/v1/streams/{stream_id}")
    followed = SseReader()
    await read_events(follower, followed, 3)
    redis.kill()
    killed = time.monotonic()
    rests = await asyncio.wait_for(asyncio.gather(first.read(), follower.read()), 10)
    elapsed = time.monotonic() - killed
    for reader, rest in zip([started, followed], rests, strict=True):
        reader.feed(rest.decode())
        assert rest.endswith(b"\n\n")
        assert data_of(reader)[-2:] == ERROR_FRAMES[format_name]
        ids = [e.id for e in reader.events]
        assert ids[-2] == ids[-1] == ids[-3]  # the last id is the last frame the store kept
        assert ids[-3] is not None
        assert ids[-3].startswith(f"{stream_id}:")
    assert elapsed < 5, f"took {elapsed:.2f} s"
    await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
    assert fake_agents.end_reason == "cancelled"


async def test_while_redis_is_down_requests_get_503_json_and_within_5_s_of_its_return_200(
    agents_client: Any, fake_agents: FakeAgentsUpstream, redis: RedisProcess
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(resume_window=30, redis_url=redis.url)
    first = await client.post("/v1/streaming_query", json=QUERY)
    whole = split_frames(await first.read())
    redis.kill()
    refused = [
        await client.post("/v1/streaming_query", json=QUERY),
        await client.get(f"/v1/streams/{first.headers['X-Stream-ID']}"),
        await client.post("/v1/streaming_query/interrupt", json={"request_id": "x" * 22}),
    ]
    answers = [(r.status, r.content_type, list(await r.json())) for r in refused]
    assert answers == [(503, "application/json", ["detail"])] * 3
    details = [(await r.json())["detail"] for r in refused]
    assert [d["response"] for d in details] == [
        "Unable to keep the stream",
        "Unable to reach the stream store",
        "Unable to reach the stream store",
    ]
    assert all(d["cause"].startswith("Redis ") for d in details)
    redis.start()
    back = time.monotonic()
    while True:
        again = await client.post("/v1/streaming_query", json=QUERY)
        if again.status == 200:
            break
        assert again.status == 503
        assert time.monotonic() - back < 5, "the service did not serve again within 5 s"
        await asyncio.sleep(0.1)
    served_after = time.monotonic() - back
    frames = split_frames(await again.read())
    # the same answer again, in a conversation of its own (the start frame names it)
    assert [f.split("\nid: ")[0] for f in frames[1:]] == [f.split("\nid: ")[0] for f in whole[1:]]
    assert frames[0].startswith('data: {"event": "start", "data": {"conversation_id": "')
    stream_id = again.headers["X-Stream-ID"]
    follow = await client.get(f"/v1/streams/{stream_id}?after=2")
    assert split_frames(await follow.read()) == frames[3:]
    assert served_after < 5
