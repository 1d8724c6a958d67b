"""`python -m service --workers 2`: real worker processes on one port, sharing one redis-server.

The kernel picks the worker of each new connection (SO_REUSEPORT), so each test retries, a
bounded number of times, until the two requests it needs have landed on different workers;
every worker names itself on its log lines, which tell which one served a request id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from fakes.agents_upstream import FakeAgentsUpstream, Sleep, fixture_steps
from service.__main__ import main
from tests.paths import REPO
from tests.service.redis_server import free_port
from tests.service.sse_reader import SseReader, event_names, read_events
from tests.service.test_resume_redis import Replica

QUERY = {"query": "Say hello."}
TRIALS = 12
"""Tries for two requests to land on different workers: all on one has odds 2**-11."""


class Workers(Replica):
    """One `python -m service --workers 2` process tree."""

    def lines(self) -> list[dict[str, Any]]:
        """Every JSON log line of the workers (two workers' lines may share a line of the file)."""
        decoder = json.JSONDecoder()
        found: list[dict[str, Any]] = []
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            for line in log:
                at = 0
                while line.startswith("{", at):
                    entry, at = decoder.raw_decode(line, at)
                    found.append(entry)
        return found

    async def ask(self, session: aiohttp.ClientSession, request_id: str) -> aiohttp.ClientResponse:
        """Start a stream of QUERY with this request id."""
        return await session.post(
            f"{self.base}/v1/streaming_query", json=QUERY, headers={"X-Request-ID": request_id}
        )

    async def worker_of(self, request_id: str, event: str) -> int:
        """The worker whose log line `event` carries `request_id` (waits up to 5 s for it)."""
        for _ in range(100):
            for line in self.lines():
                if line.get("request_id") == request_id and line.get("event") == event:
                    return int(line["worker"])
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {event!r} line for {request_id}")


@pytest.fixture
async def workers(redis_url: str, agents_server: Any, tmp_path: Any) -> AsyncIterator[Workers]:
    """Two workers in front of the fake upstream, on one Redis; SIGKILLed if a test left them."""
    port = free_port()
    log_path = str(tmp_path / "workers.log")
    env = {
        **os.environ,
        "LLAMA_STACK_BASE_URL": str(agents_server.make_url("/")),
        "LLAMA_STACK_API": "agents",
        "RESUME_WINDOW": "30",
        "REDIS_URL": redis_url,
        "HEARTBEAT_INTERVAL": "0.3",
        "LOG_FORMAT": "json",
    }
    with open(log_path, "wb") as log:  # noqa: ASYNC230 (opened once, before the processes)
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "service", "--workers", "2"),
            *("--host", "127.0.0.1", "--port", str(port)),
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,  # its own process group: the teardown kills the workers too
        )
    tree = Workers(process, f"http://127.0.0.1:{port}", log_path)
    for _ in range(1200):  # a minute: two workers import the service at once on a busy machine
        started = {line.get("worker") for line in tree.lines() if line.get("event") == "upstream"}
        if started == {0, 1}:
            break
        assert process.returncode is None, tree.log()
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"the workers did not start:\n{tree.log()}")
    await _until_live(tree.base)
    yield tree
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    await process.wait()


async def _until_live(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{base}/liveness") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)
    raise AssertionError("the workers do not answer")


def fresh() -> aiohttp.ClientSession:
    """A session whose every request opens a new connection (so the kernel picks a worker)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))


def test_more_than_one_worker_without_redis_refuses_to_start(monkeypatch, capsys) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("SERVICE_CONFIG", raising=False)
    assert main(["--workers", "2"]) == 2
    assert capsys.readouterr().err == (
        "refusing to start: --workers 2 needs REDIS_URL: resumable streams, interrupts, "
        "conversation owners and tool approvals must be shared between the worker processes, "
        "and only Redis shares them. Set REDIS_URL, or run one worker (--workers 1, the "
        "default).\n"
    )


def test_zero_workers_refuses_to_start(capsys) -> None:
    assert main(["--workers", "0"]) == 2
    assert capsys.readouterr().err == "refusing to start: --workers must be 1 or more, not 0.\n"


@pytest.mark.redis
async def test_a_stream_on_one_worker_resumes_on_the_other_with_the_whole_answer_once(
    workers: Workers, fake_agents: FakeAgentsUpstream
):
    steps = fixture_steps("text.sse")
    for trial in range(TRIALS):
        fake_agents.steps = [*steps[:4], Sleep(1.0), *steps[4:]]
        async with fresh() as session:
            first = await workers.ask(session, f"s{trial}")
            stream_id = first.headers["X-Stream-ID"]
            reader = SseReader()
            await read_events(first, reader, 3)
            first.close()
            again = await session.post(
                f"{workers.base}/v1/streaming_query",
                json=QUERY,
                headers={"Last-Event-ID": str(reader.last_event_id), "X-Request-ID": f"r{trial}"},
            )
            rest = reader.reconnected()
            rest.feed((await again.read()).decode())
            whole = SseReader()
            answer = await session.get(f"{workers.base}/v1/streams/{stream_id}")
            whole.feed((await answer.read()).decode())
        producer = await workers.worker_of(f"s{trial}", "stream start")
        if await workers.worker_of(f"r{trial}", "stream resumed") != producer:
            break
    else:
        raise AssertionError(f"all {TRIALS} resumes landed on the producer's worker")
    assert again.headers["X-Stream-ID"] == stream_id
    assert [e.data for e in reader.events + rest.events] == [e.data for e in whole.events]
    assert event_names(whole)[-2:] == ["turn_complete", "end"]
    ids = [event.id for event in whole.events]
    assert ids == [f"{stream_id}:{seq}" for seq in range(len(ids))]
    assert len(fake_agents.turns) == trial + 1  # each trial's resume made no turn of its own


@pytest.mark.redis
async def test_an_interrupt_on_one_worker_stops_the_turn_running_on_the_other_within_a_second(
    workers: Workers, fake_agents: FakeAgentsUpstream
):
    for trial in range(TRIALS):
        fake_agents.steps = [*fixture_steps("text.sse")[:4], Sleep(60)]
        fake_agents.turn_started.clear()
        fake_agents.turn_ended.clear()
        async with fresh() as session:
            first = await workers.ask(session, f"s{trial}")
            stream_id = first.headers["X-Stream-ID"]
            await first.content.readuntil(b"\n\n")
            await asyncio.wait_for(fake_agents.turn_started.wait(), 5)
            asked = time.monotonic()
            async with session.post(
                f"{workers.base}/v1/streaming_query/interrupt",
                json={"request_id": stream_id},
                headers={"X-Request-ID": f"i{trial}"},
            ) as answer:
                assert answer.status == 200
            await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
            cancelled_after = time.monotonic() - asked
            rest = (await asyncio.wait_for(first.read(), 5)).decode()
        producer = await workers.worker_of(f"s{trial}", "stream start")
        if await workers.worker_of(f"i{trial}", "stream interrupt") != producer:
            break
    else:
        raise AssertionError(f"all {TRIALS} interrupts landed on the producer's worker")
    assert fake_agents.end_reason == "cancelled"
    assert cancelled_after < 1.0, f"took {cancelled_after:.2f} s"
    reader = SseReader(last_event_id=None)
    reader.feed(rest)
    names = [json.loads(e.data).get("event") for e in reader.events]
    assert names[-2:] == ["interrupted", "end"]
    assert json.loads(reader.events[-2].data)["data"]["token"] == "The answer was interrupted."


@pytest.mark.redis
async def test_sigterm_drains_every_worker(workers: Workers, fake_agents: FakeAgentsUpstream):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:4], Sleep(1.5), *steps[4:]]
    sessions: list[aiohttp.ClientSession] = []
    streams: list[tuple[aiohttp.ClientResponse, int]] = []
    try:
        for trial in range(TRIALS + 1):
            session = fresh()
            sessions.append(session)
            response = await workers.ask(session, f"d{trial}")
            await response.content.readuntil(b"\n\n")
            streams.append((response, await workers.worker_of(f"d{trial}", "stream start")))
            if {worker for _, worker in streams} == {0, 1}:
                break
        else:
            raise AssertionError(f"all {len(streams)} streams landed on one worker")
        workers.process.send_signal(signal.SIGTERM)
        bodies = [(await asyncio.wait_for(response.read(), 15)).decode() for response, _ in streams]
        assert await asyncio.wait_for(workers.process.wait(), 15) == 0
    finally:
        for session in sessions:
            await session.close()
    for body in bodies:
        reader = SseReader(last_event_id=None)
        reader.feed(body)
        assert event_names(reader)[-2:] == ["turn_complete", "end"]
    drained = {line["worker"] for line in workers.lines() if line.get("event") == "draining"}
    assert drained == {0, 1}


@pytest.mark.redis
async def test_every_scrape_of_metrics_counts_the_streams_of_every_worker(
    workers: Workers, fake_agents: FakeAgentsUpstream
):
    fake_agents.steps = fixture_steps("text.sse")
    served: list[int] = []
    async with fresh() as session:
        for trial in range(TRIALS + 1):
            response = await workers.ask(session, f"m{trial}")
            assert response.status == 200
            await response.read()
            served.append(await workers.worker_of(f"m{trial}", "stream start"))
            if set(served) == {0, 1}:
                break
        else:
            raise AssertionError(f"all {len(served)} streams landed on one worker")
        line = (
            'agent_stream_gateway_streams_total{format="patternfly",outcome="completed"} '
            f"{len(served)}.0"
        )
        for _ in range(4):
            async with session.get(f"{workers.base}/metrics") as scrape:
                text = await scrape.text()
            assert line in text.splitlines(), text[:2000]
            assert 'agent_stream_gateway_active_streams{format="patternfly"} 0.0' in text
