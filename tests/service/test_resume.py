"""Resumable streams over HTTP (RESUME_WINDOW > 0): ids, re-POST and GET resume, followers,
detached turns, the frame budget, 404s, owners, drain; in memory and in a real Redis."""

from __future__ import annotations

import asyncio
import json
import re
import time
import types
from typing import Any

import aiohttp
import pytest
from structlog.testing import capture_logs

import formatters.a2a
import formatters.ag_ui
import formatters.anthropic
import formatters.openai
import formatters.responses
from fakes.agents_upstream import Sleep, fixture_steps
from service.http.app import create_app
from service.keys import ACTIVE_STREAMS, METRICS, RESUMER
from service.settings import Settings
from service.upstream.demo import DemoUpstream
from tests.conftest import split_frames
from tests.service.sse_reader import SseReader

QUERY = {"query": "Say hello."}
FORMATS = ("patternfly", "raw", "openai", "responses", "vercel", "anthropic", "ag-ui", "a2a")
ID_LINE = re.compile(r"^id: .*\n", re.MULTILINE)
NOT_FOUND = {
    "detail": {
        "response": "Stream not found",
        "cause": "No resumable stream has this id: unknown, expired, or started by someone else.",
    }
}


@pytest.fixture
def fixed_openai_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the openai, anthropic and ag-ui formats' ids and clocks the same on every stream."""
    monkeypatch.setattr(formatters.openai, "new_completion_id", lambda: "chatcmpl-fixed")
    monkeypatch.setattr(formatters.openai, "time", types.SimpleNamespace(time=lambda: 1.7e9))
    monkeypatch.setattr(formatters.responses, "time", types.SimpleNamespace(time=lambda: 1.7e9))
    monkeypatch.setattr(
        formatters.responses, "secrets", types.SimpleNamespace(token_urlsafe=lambda n: "s" * 22)
    )
    monkeypatch.setattr(formatters.anthropic, "new_message_id", lambda: "msg_fixed")
    monkeypatch.setattr(formatters.ag_ui, "new_id", lambda: "fixed-id")
    monkeypatch.setattr(formatters.a2a, "new_id", lambda: "fixed-id")


async def turns_ended(client: Any) -> None:
    """Wait until the app runs no detached turn (the producer's last bookkeeping is done)."""
    resumer = client.server.app[RESUMER]
    for _ in range(100):
        if resumer.running == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{resumer.running} turns still running")


def events_of(frames: list[str]) -> list[str]:
    return [json.loads(frame.split("\n")[0].removeprefix("data: "))["event"] for frame in frames]


def ids_of(body: bytes) -> list[str]:
    return re.findall(r"^id: (.*)$", body.decode(), re.MULTILINE)


async def test_with_resume_off_there_is_no_stream_id_and_last_event_id_starts_a_new_turn(
    agents_client, fake_agents
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    headers = {"Last-Event-ID": "AbCdEfGhIjKlMnOpQrStUv:3"}
    response = await client.post("/v1/streaming_query", json=QUERY, headers=headers)
    body = await response.read()
    assert "X-Stream-ID" not in response.headers
    assert ids_of(body) == []
    assert events_of(split_frames(body))[-2:] == ["turn_complete", "end"]
    assert len(fake_agents.turns) == 1
    assert client.server.app.get(RESUMER) is None


@pytest.mark.parametrize("format_name", FORMATS)
async def test_data_lines_are_byte_identical_to_a_stream_without_resume(
    make_client, fixed_openai_ids, format_name
):
    url = f"/v1/streaming_query?format={format_name}"
    body = {"query": "What is this?", "conversation_id": "conv-1"}
    plain = await make_client(upstream=DemoUpstream(0))
    resumable = await make_client(upstream=DemoUpstream(0), resume_window=30)
    without = (await (await plain.post(url, json=body)).read()).decode()
    response = await resumable.post(url, json=body)
    with_ids = (await response.read()).decode()
    stream_id = response.headers["X-Stream-ID"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", stream_id)
    assert ID_LINE.sub("", with_ids) == ID_LINE.sub("", without)
    frames = split_frames(with_ids.encode())
    assert [frame.rstrip("\n").splitlines()[-1] for frame in frames] == [
        f"id: {stream_id}:{seq}" for seq in range(len(frames))
    ]


async def test_a_re_post_with_last_event_id_gets_exactly_the_frames_after_it(
    agents_client, fake_agents, store
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(resume_window=30, **store)
    first = await client.post("/v1/streaming_query", json=QUERY)
    frames = split_frames(await first.read())
    stream_id = first.headers["X-Stream-ID"]
    again = await client.post(
        "/v1/streaming_query", json=QUERY, headers={"Last-Event-ID": f"{stream_id}:5"}
    )
    assert again.status == 200
    assert again.headers["X-Stream-ID"] == stream_id
    assert again.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert split_frames(await again.read()) == frames[6:]
    assert len(fake_agents.turns) == 1


async def test_get_resumes_after_last_event_id_or_after_and_from_the_start_without(
    agents_client, fake_agents, store
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(resume_window=30, **store)
    first = await client.post("/v1/streaming_query?format=vercel", json=QUERY)
    body = await first.read()
    stream_id = first.headers["X-Stream-ID"]
    frames = split_frames(body)
    url = f"/v1/streams/{stream_id}"
    by_header = await client.get(url, headers={"Last-Event-ID": f"{stream_id}:3"})
    assert by_header.headers["x-vercel-ai-ui-message-stream"] == "v1"
    assert split_frames(await by_header.read()) == frames[4:]
    by_query = await client.get(f"{url}?after=10")
    assert split_frames(await by_query.read()) == frames[11:]
    assert await (await client.get(url)).read() == body


async def test_a_resume_at_or_past_the_terminal_frame_is_204_so_event_source_stops(
    agents_client, fake_agents, store
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(resume_window=30, **store)
    first = await client.post("/v1/streaming_query", json=QUERY)
    frames = split_frames(await first.read())
    stream_id = first.headers["X-Stream-ID"]
    last = len(frames) - 1
    url = f"/v1/streams/{stream_id}"
    for response in [
        await client.get(f"{url}?after={last}"),
        await client.get(f"{url}?after={last + 100}"),
        await client.get(url, headers={"Last-Event-ID": f"{stream_id}:{last}"}),
        await client.post(
            "/v1/streaming_query", json=QUERY, headers={"Last-Event-ID": f"{stream_id}:{last}"}
        ),
    ]:
        assert (response.status, await response.read()) == (204, b"")
        assert response.headers["X-Stream-ID"] == stream_id
        assert "Content-Type" not in response.headers
    before_end = await client.get(f"{url}?after={last - 1}")
    assert before_end.status == 200
    assert split_frames(await before_end.read()) == frames[-1:]
    assert len(fake_agents.turns) == 1


async def test_a_reconnect_mid_turn_replays_then_follows_live_to_the_end(
    agents_client, fake_agents, store
):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:3], Sleep(1.0), *steps[3:]]
    client = await agents_client(resume_window=30, heartbeat_interval=0.3, **store)
    first = await client.post("/v1/streaming_query", json=QUERY)
    stream_id = first.headers["X-Stream-ID"]
    reader = SseReader()
    while len(reader.events) < 3:
        reader.feed((await first.content.readany()).decode())
    first.close()
    await asyncio.sleep(0.4)
    again = await client.post(
        "/v1/streaming_query", json=QUERY, headers={"Last-Event-ID": reader.last_event_id}
    )
    rest = reader.reconnected()
    rest.feed((await again.read()).decode())
    whole = await (await client.get(f"/v1/streams/{stream_id}")).read()
    everything = SseReader()
    everything.feed(whole.decode())
    assert [e.data for e in reader.events + rest.events] == [e.data for e in everything.events]
    names = [json.loads(e.data)["event"] for e in everything.events]
    assert names.count("heartbeat") >= 2
    assert names[-2:] == ["turn_complete", "end"]
    assert fake_agents.end_reason == "completed"


async def test_two_followers_of_one_stream_each_get_every_frame(agents_client, fake_agents, store):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:2], Sleep(0.5), *steps[2:]]
    client = await agents_client(resume_window=30, heartbeat_interval=0.2, **store)
    first = await client.post("/v1/streaming_query?format=raw", json=QUERY)
    stream_id = first.headers["X-Stream-ID"]
    await first.content.readuntil(b"\n\n")
    second = await client.get(f"/v1/streams/{stream_id}")
    one, two = await asyncio.gather(first.read(), second.read())
    assert two.startswith(b"event: start\n")
    assert two.endswith(one)  # the first body lacks only the start frame read above
    assert ids_of(two) == [f"{stream_id}:{seq}" for seq in range(len(split_frames(two)))]
    assert b"event: heartbeat" in two


async def test_unknown_expired_or_malformed_ids_get_404_json(agents_client, fake_agents, store):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(resume_window=0.3, **store)
    first = await client.post("/v1/streaming_query", json=QUERY)
    await first.read()
    stream_id = first.headers["X-Stream-ID"]
    assert (await client.get(f"/v1/streams/{stream_id}")).status == 200
    for response in [
        await client.get("/v1/streams/AbCdEfGhIjKlMnOpQrStUv"),
        await client.post(
            "/v1/streaming_query", json=QUERY, headers={"Last-Event-ID": "not-one-of-ours"}
        ),
        await client.post(
            "/v1/streaming_query", json=QUERY, headers={"Last-Event-ID": "AbCdEfGhIjKlMnOpQrStUv:2"}
        ),
    ]:
        assert (response.status, await response.json()) == (404, NOT_FOUND)
    await asyncio.sleep(0.6)
    expired = await client.get(f"/v1/streams/{stream_id}")
    assert (expired.status, await expired.json()) == (404, NOT_FOUND)
    assert len(fake_agents.turns) == 1


async def test_after_must_be_a_sequence_number(agents_client, fake_agents):
    client = await agents_client(resume_window=30)
    response = await client.get("/v1/streams/AbCdEfGhIjKlMnOpQrStUv?after=x")
    assert response.status == 422
    assert (await response.json())["detail"]["cause"] == (
        "after: must be a frame sequence (0 or more)"
    )


async def test_get_with_resume_off_is_404(agents_client):
    client = await agents_client()
    response = await client.get("/v1/streams/AbCdEfGhIjKlMnOpQrStUv")
    assert (response.status, await response.json()) == (404, NOT_FOUND)


async def test_a_stream_started_by_another_principal_is_404(agents_client, fake_agents, store):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(
        resume_window=30, auth_mode="api-key", auth_api_keys="alice:key-a,bob:key-b", **store
    )
    alice = {"Authorization": "Bearer key-a"}
    bob = {"Authorization": "Bearer key-b"}
    first = await client.post("/v1/streaming_query", json=QUERY, headers=alice)
    body = await first.read()
    stream_id = first.headers["X-Stream-ID"]
    assert await (await client.get(f"/v1/streams/{stream_id}", headers=alice)).read() == body
    for response in [
        await client.get(f"/v1/streams/{stream_id}", headers=bob),
        await client.post(
            "/v1/streaming_query", json=QUERY, headers={**bob, "Last-Event-ID": f"{stream_id}:1"}
        ),
    ]:
        assert (response.status, await response.json()) == (404, NOT_FOUND)
    assert (await client.get(f"/v1/streams/{stream_id}")).status == 401


async def test_a_client_that_leaves_does_not_stop_the_turn_and_its_rest_is_kept(
    fake_agents, agents_server, serve_like_production
):
    # The production server does not cancel handlers: without resume, the next heartbeat's
    # failed write would cancel the upstream (test_streaming_query). With resume it goes on.
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:3], Sleep(1.5), *steps[3:]]
    settings = Settings(
        llama_stack_base_url=str(agents_server.make_url("/")),
        llama_stack_api="agents",
        heartbeat_interval=0.2,
        resume_window=30,
    )
    app = create_app(settings)
    base = await serve_like_production(app)
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{base}/v1/streaming_query", json=QUERY)
        stream_id = response.headers["X-Stream-ID"]
        await response.content.readuntil(b"\n\n")
        response.close()
        await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
        assert fake_agents.end_reason == "completed"
        rest = await session.get(f"{base}/v1/streams/{stream_id}?after=0")
        frames = split_frames(await rest.read())
    assert events_of(frames)[:2] == ["token", "token"]
    assert events_of(frames)[-2:] == ["turn_complete", "end"]
    assert app[ACTIVE_STREAMS].count == 0


async def test_a_turn_nobody_follows_for_the_window_is_cancelled_and_ends_with_error(
    agents_client, fake_agents, store
):
    fake_agents.steps = [*fixture_steps("text.sse")[:3], Sleep(60)]
    window = 0.6
    client = await agents_client(resume_window=window, heartbeat_interval=0.2, **store)
    response = await client.post("/v1/streaming_query", json=QUERY)
    stream_id = response.headers["X-Stream-ID"]
    await response.content.readuntil(b"\n\n")
    response.close()
    left_at = time.monotonic()
    await asyncio.sleep(0.2)
    assert not fake_agents.turn_ended.is_set()
    await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
    assert fake_agents.end_reason == "cancelled"
    assert window <= time.monotonic() - left_at < window + 1.0
    frames = split_frames(await (await client.get(f"/v1/streams/{stream_id}")).read())
    assert events_of(frames)[-2:] == ["error", "end"]
    assert json.loads(frames[-2].split("\n")[0][6:])["data"]["token"] == (
        f"Nobody read this answer for {window:g} s, so it was stopped."
    )


async def test_a_follower_keeps_a_turn_alive_past_the_window(agents_client, fake_agents, store):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:3], Sleep(1.2), *steps[3:]]
    client = await agents_client(resume_window=0.4, heartbeat_interval=0.2, **store)
    response = await client.post("/v1/streaming_query", json=QUERY)
    frames = split_frames(await response.read())
    assert events_of(frames)[-2:] == ["turn_complete", "end"]
    assert fake_agents.end_reason == "completed"


async def test_a_stream_over_its_frame_budget_ends_with_error_then_end_and_a_log_line(
    agents_client, fake_agents, store
):
    steps = fixture_steps("long.sse")
    fake_agents.steps = [*steps[:80], Sleep(10), *steps[80:]]
    client = await agents_client(resume_window=30, resume_max_stream_bytes=4000, **store)
    with capture_logs() as logs:
        response = await client.post("/v1/streaming_query", json=QUERY)
        body = await response.read()
        await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
        await turns_ended(client)
    frames = split_frames(body)
    assert events_of(frames)[-2:] == ["error", "end"]
    assert json.loads(frames[-2].split("\n")[0][6:])["data"]["token"] == (
        "The answer grew past the 4000 bytes this service keeps for one stream."
    )
    assert sum(len(frame) for frame in frames[:-2]) <= 4000
    assert fake_agents.end_reason == "cancelled"
    budget = [entry for entry in logs if entry["event"] == "stream over its frame budget"]
    assert budget[0]["log_level"] == "warning"
    assert [entry["outcome"] for entry in logs if entry["event"] == "stream end"] == ["too_large"]


async def test_a_detached_turn_keeps_its_stream_slot_and_drain_ends_it(
    fake_agents, agents_server, serve_like_production
):
    fake_agents.steps = [*fixture_steps("text.sse")[:3], Sleep(60)]
    settings = Settings(
        llama_stack_base_url=str(agents_server.make_url("/")),
        llama_stack_api="agents",
        heartbeat_interval=0.2,
        resume_window=30,
        drain_timeout=0.3,
        max_concurrent_streams=1,
    )
    app = create_app(settings)
    base = await serve_like_production(app)
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{base}/v1/streaming_query", json=QUERY)
        stream_id = response.headers["X-Stream-ID"]
        await response.content.readuntil(b"\n\n")
        response.close()
        await asyncio.sleep(0.5)
        assert app[ACTIVE_STREAMS].count == 1
        refused = await session.post(f"{base}/v1/streaming_query", json=QUERY)
        assert refused.status == 429
        follower = await session.get(f"{base}/v1/streams/{stream_id}?after=0")
        drain = asyncio.create_task(app.shutdown())
        frames = split_frames(await follower.read())
        await asyncio.wait_for(drain, 5)
    assert events_of(frames)[-2:] == ["error", "end"]
    assert "The service is restarting" in frames[-2]
    assert fake_agents.end_reason == "cancelled"
    assert app[ACTIVE_STREAMS].count == 0


async def test_a_resumable_stream_logs_one_start_and_end_and_counts_its_followers(
    agents_client, fake_agents
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(resume_window=30)
    with capture_logs() as logs:
        response = await client.post("/v1/streaming_query", json=QUERY)
        frames = split_frames(await response.read())
        stream_id = response.headers["X-Stream-ID"]
        await (await client.get(f"/v1/streams/{stream_id}?after=3")).read()
        await turns_ended(client)
    events = [entry["event"] for entry in logs]
    assert events.count("stream start") == events.count("stream end") == 1
    (end,) = [entry for entry in logs if entry["event"] == "stream end"]
    assert (end["outcome"], end["frames"]) == ("completed", len(frames))
    (resumed,) = [entry for entry in logs if entry["event"] == "stream resumed"]
    assert resumed["after"] == 3
    metrics = client.server.app[METRICS]
    streams = metrics.streams.labels("patternfly", "completed")._value.get()
    assert streams == 1
    assert metrics.active_streams.labels("patternfly")._value.get() == 0
