"""Graceful drain: open streams finish or get error + end; readiness and new streams refuse."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from fakes.agents_upstream import Sleep, Status, fixture_steps
from service.keys import ACTIVE_STREAMS
from tests.conftest import CHAT, NON_STREAMED_ANSWERS, split_frames

QUERY = {"query": "Say hello."}


def events_of(frames: list[str]) -> list[str]:
    return [json.loads(frame[6:])["event"] for frame in frames]


async def test_streams_still_open_after_the_drain_timeout_end_with_error_then_end(
    agents_client, fake_agents
):
    fake_agents.steps = [*fixture_steps("text.sse")[:3], Sleep(30)]
    client = await agents_client(drain_timeout=0.5)
    response = await client.post("/v1/streaming_query", json=QUERY)
    await response.content.readuntil(b"\n\n")
    drain = asyncio.create_task(client.app.shutdown())
    await asyncio.sleep(0.1)
    readiness = await client.get("/readiness")
    assert (readiness.status, await readiness.json()) == (
        503,
        {"ready": False, "reason": "draining"},
    )
    refused = await client.post("/v1/streaming_query", json=QUERY)
    assert refused.status == 503
    assert (await refused.json())["detail"]["response"] == "Draining"
    frames = split_frames(await response.read())
    assert events_of(frames)[-2:] == ["error", "end"]
    assert json.loads(frames[-2][6:])["data"]["token"] == (
        "The service is restarting and ended this answer early; please ask again."
    )
    await asyncio.wait_for(drain, 5)
    await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
    assert fake_agents.end_reason == "cancelled"


async def test_streams_that_finish_within_the_drain_timeout_complete(agents_client, fake_agents):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:3], Sleep(0.5), *steps[3:]]
    client = await agents_client(drain_timeout=10)
    response = await client.post("/v1/streaming_query", json=QUERY)
    await response.content.readuntil(b"\n\n")
    drain = asyncio.create_task(client.app.shutdown())
    frames = split_frames(await response.read())
    assert events_of(frames)[-2:] == ["turn_complete", "end"]
    await asyncio.wait_for(drain, 5)


def test_sigterm_drains_and_exits_0_within_a_bounded_time(unused_tcp_port) -> None:
    env = {**os.environ, "LOG_FORMAT": "json", "DEMO_DELAY": "0.05", "DRAIN_TIMEOUT": "0.5"}
    env.pop("LLAMA_STACK_BASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", str(unused_tcp_port)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{unused_tcp_port}"
    body: list[bytes] = []
    first_frame = threading.Event()

    def read_stream() -> None:
        request = urllib.request.Request(
            f"{base}/v1/streaming_query",
            data=b'{"query": "hello"}',
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            while chunk := response.read1():
                body.append(chunk)
                first_frame.set()

    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/liveness", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        reader = threading.Thread(target=read_stream)
        reader.start()
        assert first_frame.wait(10)
        time.sleep(0.5)  # inside the demo's 6 s knowledge search
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        exited = time.monotonic() - sent
        reader.join(timeout=5)
    finally:
        process.kill()
        _, stderr = process.communicate(timeout=10)
    frames = split_frames(b"".join(body))
    assert events_of(frames)[-2:] == ["error", "end"]
    assert process.returncode == 0, stderr
    assert exited < 0.5 + 5, f"took {exited:.2f} s to exit"
    logged = [json.loads(line)["event"] for line in stderr.splitlines() if line.startswith("{")]
    assert "drain timeout: ending open streams" in logged


RUN = {"threadId": "t", "runId": "r", "messages": [{"id": "u", "role": "user", "content": "Hi"}]}
TURN_ROUTES = [
    ("/v1/streaming_query", QUERY),
    ("/v1/ag-ui", RUN),
    *((path, body) for path, body, _ in NON_STREAMED_ANSWERS if path == "/v1/query"),
]
"""The routes that answer a turn, and refuse, in the contract's error shape."""
OTHER_SHAPES = [
    ("/v1/chat/completions", {**CHAT, "stream": True}),
    ("/v1/chat/completions", CHAT),
    ("/v1/responses", {"model": "m", "input": "Hi", "stream": True}),
    ("/v1/responses", {"model": "m", "input": "Hi"}),
    (
        "/v1/messages",
        {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "Hi"}]},
    ),
]
"""The turn routes that speak another protocol's errors: the same status, its own shape."""


def says(answer: object, cause: str) -> bool:
    """Whether an error answer in another protocol's shape carries the contract's cause."""
    if isinstance(answer, dict):
        return any(says(value, cause) for value in answer.values())
    return isinstance(answer, str) and cause in answer


async def test_every_turn_route_refuses_alike_while_draining_or_full(agents_client, fake_agents):
    client = await agents_client(max_concurrent_streams=1)
    active = client.server.app[ACTIVE_STREAMS]
    active.draining = True
    for path, body in TURN_ROUTES:
        refused = await client.post(path, json=body)
        assert (refused.status, await refused.json()) == (
            503,
            {
                "detail": {
                    "response": "Draining",
                    "cause": "This instance is shutting down; retry on another.",
                }
            },
        )
    for path, body in OTHER_SHAPES:
        refused = await client.post(path, json=body)
        assert refused.status == 503, path
        assert says(await refused.json(), "This instance is shutting down; retry on another.")
    active.draining = False
    active.opened()  # the one slot is taken
    for path, body in OTHER_SHAPES:
        refused = await client.post(path, json=body)
        assert (refused.status, refused.headers["Retry-After"]) == (429, "1"), path
        assert says(await refused.json(), "This instance serves at most 1 streams at once.")
    for path, body in TURN_ROUTES:
        refused = await client.post(path, json=body)
        assert (refused.status, refused.headers["Retry-After"]) == (429, "1")
        assert await refused.json() == {
            "detail": {
                "response": "Too many streams",
                "cause": "This instance serves at most 1 streams at once.",
            }
        }
    active.closed()
    assert active.count == 0
    assert fake_agents.turns == []


async def test_every_turn_route_answers_503_alike_when_the_upstream_cannot_start(
    agents_client, fake_agents
):
    fake_agents.steps = [Status(500)]
    client = await agents_client()
    answers = []
    for path, body in TURN_ROUTES:
        response = await client.post(path, json=body)
        answers.append((response.status, await response.json()))
    assert len({json.dumps(answer) for answer in answers}) == 1
    assert answers[0][0] == 503
    assert answers[0][1]["detail"]["response"] == "Unable to connect to Llama Stack"
    for path, body in OTHER_SHAPES:
        response = await client.post(path, json=body)
        assert response.status == 503, path
        assert says(await response.json(), answers[0][1]["detail"]["cause"])
    assert client.server.app[ACTIVE_STREAMS].count == 0
