"""Two service processes share one real redis-server: a stream started on A resumes on B, a
producer killed with SIGKILL is detected, and an interrupt on B stops the turn on A."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

import aiohttp
import pytest

from fakes.agents_upstream import FakeAgentsUpstream, Sleep, fixture_steps
from tests.paths import REPO
from tests.service.redis_server import free_port
from tests.service.sse_reader import SseReader, event_names, read_events

QUERY = {"query": "Say hello."}
PRODUCER_LOST = "The service instance running this answer stopped; please ask again."

pytestmark = pytest.mark.redis


@dataclass
class Replica:
    """One `python -m service` process."""

    process: asyncio.subprocess.Process
    base: str
    log_path: str

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()[-4000:]


StartReplica = Callable[[], Awaitable[Replica]]


def _log_file(path: str) -> BinaryIO:
    return open(path, "wb")


@pytest.fixture
async def replica(
    redis_url: str,
    agents_server: Any,
    tmp_path: Any,
) -> AsyncIterator[StartReplica]:
    """Start service processes in front of the fake upstream, all on the same Redis."""
    started: list[Replica] = []

    async def start() -> Replica:
        port = free_port()
        log_path = str(tmp_path / f"replica-{port}.log")
        env = {
            **os.environ,
            "LLAMA_STACK_BASE_URL": str(agents_server.make_url("/")),
            "LLAMA_STACK_API": "agents",
            "RESUME_WINDOW": "30",
            "REDIS_URL": redis_url,
            "HEARTBEAT_INTERVAL": "0.3",
            "LOG_FORMAT": "json",
        }
        with _log_file(log_path) as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "service",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=log,
            )
        replica = Replica(process, f"http://127.0.0.1:{port}", log_path)
        started.append(replica)
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{replica.base}/liveness") as response:
                        if response.status == 200:
                            return replica
                if process.returncode is not None:
                    break
                await asyncio.sleep(0.05)
        raise AssertionError(f"the service did not start:\n{replica.log()}")

    yield start
    for replica in started:
        if replica.process.returncode is None:
            replica.process.kill()
        await replica.process.wait()


async def test_a_stream_started_on_a_resumes_on_b_with_the_whole_answer_once(
    replica: StartReplica, fake_agents: FakeAgentsUpstream
):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:4], Sleep(1.0), *steps[4:]]
    a, b = await replica(), await replica()
    async with aiohttp.ClientSession() as session:
        first = await session.post(f"{a.base}/v1/streaming_query", json=QUERY)
        stream_id = first.headers["X-Stream-ID"]
        reader = SseReader()
        await read_events(first, reader, 3)
        first.close()
        again = await session.post(
            f"{b.base}/v1/streaming_query",
            json=QUERY,
            headers={"Last-Event-ID": reader.last_event_id or ""},
        )
        assert again.headers["X-Stream-ID"] == stream_id
        rest = reader.reconnected()
        rest.feed((await again.read()).decode())
        whole = SseReader()
        whole.feed((await (await session.get(f"{b.base}/v1/streams/{stream_id}")).read()).decode())
    assert [e.data for e in reader.events + rest.events] == [e.data for e in whole.events]
    assert event_names(whole)[-2:] == ["turn_complete", "end"]
    assert event_names(whole).count("heartbeat") >= 2
    ids = [event.id for event in whole.events]
    assert ids == [f"{stream_id}:{seq}" for seq in range(len(ids))]
    assert len(fake_agents.turns) == 1


async def test_a_producer_killed_mid_turn_gives_b_s_follower_error_and_end_within_5_s(
    replica: StartReplica, fake_agents: FakeAgentsUpstream
):
    fake_agents.steps = [*fixture_steps("text.sse")[:4], Sleep(60)]
    a, b = await replica(), await replica()
    async with aiohttp.ClientSession() as session:
        first = await session.post(f"{a.base}/v1/streaming_query", json=QUERY)
        stream_id = first.headers["X-Stream-ID"]
        await first.content.readuntil(b"\n\n")
        follower = await session.get(f"{b.base}/v1/streams/{stream_id}")
        reader = SseReader()
        await read_events(follower, reader, 5)  # the answer so far and a heartbeat or two
        a.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        reader.feed((await asyncio.wait_for(follower.read(), 10)).decode())
        elapsed = time.monotonic() - killed
        first.close()  # its server was killed: nothing more comes, drop the connection
        later = SseReader()
        later.feed((await (await session.get(f"{b.base}/v1/streams/{stream_id}")).read()).decode())
    assert elapsed < 5, f"took {elapsed:.2f} s"
    assert event_names(reader)[-2:] == ["error", "end"]
    error = json.loads(reader.events[-2].data)["data"]
    assert error["token"] == PRODUCER_LOST
    assert [e.data for e in later.events] == [e.data for e in reader.events]
    assert "producer of the stream is gone; ended it" in b.log()


async def test_an_interrupt_sent_to_b_stops_the_turn_running_on_a_within_a_second(
    replica: StartReplica, fake_agents: FakeAgentsUpstream
):
    fake_agents.steps = [*fixture_steps("text.sse")[:4], Sleep(60)]
    a, b = await replica(), await replica()
    async with aiohttp.ClientSession() as session:
        first = await session.post(f"{a.base}/v1/streaming_query", json=QUERY)
        stream_id = first.headers["X-Stream-ID"]
        await first.content.readuntil(b"\n\n")
        await asyncio.wait_for(fake_agents.turn_started.wait(), 5)
        asked = time.monotonic()
        async with session.post(
            f"{b.base}/v1/streaming_query/interrupt", json={"request_id": stream_id}
        ) as answer:
            assert answer.status == 200
        await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
        cancelled_after = time.monotonic() - asked
        reader = SseReader(last_event_id=None)
        reader.feed("data: {}\n\n")  # the start frame read above
        reader.feed((await asyncio.wait_for(first.read(), 5)).decode())
        async with session.post(
            f"{a.base}/v1/streaming_query/interrupt", json={"request_id": stream_id}
        ) as again:
            await again.read()
    assert fake_agents.end_reason == "cancelled"
    assert cancelled_after < 1.0, f"took {cancelled_after:.2f} s"
    names = [json.loads(e.data).get("event") for e in reader.events[1:]]
    assert names[-2:] == ["interrupted", "end"]  # patternfly: an interrupt is no error
    assert json.loads(reader.events[-2].data)["data"]["token"] == "The answer was interrupted."
    assert again.status == 404
