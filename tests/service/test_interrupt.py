"""`POST /v1/streaming_query/interrupt`: stop a running turn by its stream id."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from fakes.agents_upstream import Sleep, fixture_steps
from tests.conftest import split_frames

QUERY = {"query": "Say hello."}
URL = "/v1/streaming_query/interrupt"
NOT_FOUND = {
    "detail": {
        "response": "Stream not found",
        "cause": "No resumable stream has this id: unknown, expired, or started by someone else.",
    }
}


def data_of(frame: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(frame.split("\n")[0].removeprefix("data: "))
    return data


async def test_interrupt_cancels_the_upstream_within_a_second_and_followers_end_cleanly(
    agents_client, fake_agents, store
):
    fake_agents.steps = [*fixture_steps("text.sse")[:4], Sleep(60)]
    client = await agents_client(resume_window=30, heartbeat_interval=0.3, **store)
    first = await client.post("/v1/streaming_query", json=QUERY)
    stream_id = first.headers["X-Stream-ID"]
    await first.content.readuntil(b"\n\n")
    second = await client.get(f"/v1/streams/{stream_id}")
    await second.content.readuntil(b"\n\n")
    await asyncio.wait_for(fake_agents.turn_started.wait(), 5)
    asked = time.monotonic()
    answer = await client.post(URL, json={"request_id": stream_id})
    assert answer.status == 200
    assert await answer.json() == {
        "request_id": stream_id,
        "interrupted": True,
        "message": "Streaming request interrupted",
    }
    await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
    assert fake_agents.end_reason == "cancelled"
    assert fake_agents.ended_at is not None and fake_agents.ended_at - asked < 1.0
    for follower in (first, second):
        frames = split_frames(await asyncio.wait_for(follower.read(), 5))
        # patternfly, the default: an interrupt is an `interrupted` frame, not an error
        assert [data_of(frame)["event"] for frame in frames[-2:]] == ["interrupted", "end"]
        assert data_of(frames[-2])["data"]["token"] == "The answer was interrupted."


async def test_a_second_interrupt_and_an_unknown_id_get_404(agents_client, fake_agents, store):
    fake_agents.steps = [*fixture_steps("text.sse")[:4], Sleep(60)]
    client = await agents_client(resume_window=30, **store)
    first = await client.post("/v1/streaming_query?format=openai", json=QUERY)
    stream_id = first.headers["X-Stream-ID"]
    await first.content.readuntil(b"\n\n")
    assert (await client.post(URL, json={"request_id": stream_id})).status == 200
    for request_id in (stream_id, "AbCdEfGhIjKlMnOpQrStUv", "no such id"):
        response = await client.post(URL, json={"request_id": request_id})
        assert (response.status, await response.json()) == (404, NOT_FOUND)
    body = (await first.read()).decode()
    assert '"code":"interrupted"' in body
    assert body.endswith("data: [DONE]\nid: " + body.rsplit("id: ", 1)[1])


async def test_a_finished_stream_cannot_be_interrupted(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(resume_window=30)
    first = await client.post("/v1/streaming_query", json=QUERY)
    await first.read()
    response = await client.post(URL, json={"request_id": first.headers["X-Stream-ID"]})
    assert (response.status, await response.json()) == (404, NOT_FOUND)


async def test_only_the_owner_can_interrupt(agents_client, fake_agents):
    fake_agents.steps = [*fixture_steps("text.sse")[:4], Sleep(60)]
    client = await agents_client(
        resume_window=30, auth_mode="api-key", auth_api_keys="alice:key-a,bob:key-b"
    )
    alice = {"Authorization": "Bearer key-a"}
    bob = {"Authorization": "Bearer key-b"}
    first = await client.post("/v1/streaming_query", json=QUERY, headers=alice)
    stream_id = first.headers["X-Stream-ID"]
    await first.content.readuntil(b"\n\n")
    refused = await client.post(URL, json={"request_id": stream_id}, headers=bob)
    assert (refused.status, await refused.json()) == (404, NOT_FOUND)
    assert (await client.post(URL, json={"request_id": stream_id})).status == 401
    assert not fake_agents.turn_ended.is_set()
    assert (await client.post(URL, json={"request_id": stream_id}, headers=alice)).status == 200
    await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
    first.close()


async def test_with_resume_off_every_interrupt_is_404(agents_client):
    client = await agents_client()
    response = await client.post(URL, json={"request_id": "AbCdEfGhIjKlMnOpQrStUv"})
    assert (response.status, await response.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        ({}, "request_id: Field required"),
        ({"request_id": ""}, "request_id: String should have at least 1 character"),
        ({"request_id": 7}, "request_id: Input should be a valid string"),
        ({"request_id": "x", "more": 1}, "more: Extra inputs are not permitted"),
    ],
)
async def test_a_bad_interrupt_body_is_422(agents_client, body, cause):
    client = await agents_client(resume_window=30)
    response = await client.post(URL, json=body)
    assert response.status == 422
    assert (await response.json())["detail"] == {"response": "Invalid request", "cause": cause}
