"""Load: 1,000 concurrent streams through `python -m service` (the demo agent), all complete."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from service.settings import Settings
from service.upstream.demo import demo_chunks
from tests.paths import REPO

STREAMS = 1000
"""How many streams run at once: the default MAX_CONCURRENT_STREAMS, so none may be refused."""
DEMO_DELAY = 0.025
"""The demo's pace: its knowledge search then takes 3 s, so every stream is open at once."""
SCRIPTED_SECONDS = sum(pause for pause, _ in demo_chunks("q")) * DEMO_DELAY
"""How long one demo turn takes by its script alone."""
ARTIFACT = REPO / "artifacts" / "load.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def events(body: bytes) -> list[dict[str, Any]]:
    text = body.decode()
    assert text.endswith("\n\n")
    return [json.loads(frame.removeprefix("data: ")) for frame in text[:-2].split("\n\n")]


@pytest.fixture
def enough_files() -> Iterator[None]:
    """One socket per stream here and in the service (which inherits it): raise the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = STREAMS * 2 + 256
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {wanted}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def service(tmp_path: Path, enough_files: None) -> Any:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in Settings.model_fields and key != "SERVICE_CONFIG"
    }
    env.update(LOG_FORMAT="json", LOG_LEVEL="warning", DEMO_DELAY=str(DEMO_DELAY))
    env.update(HEARTBEAT_INTERVAL="1", MAX_CONCURRENT_STREAMS=str(STREAMS))
    log = (tmp_path / "service.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


async def wait_alive(session: aiohttp.ClientSession, base: str) -> None:
    for _ in range(150):
        try:
            async with session.get(f"{base}/liveness") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the service did not start")


async def active_streams(session: aiohttp.ClientSession, base: str) -> float:
    async with session.get(f"{base}/metrics") as response:
        text = await response.text()
    return sum(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("agent_stream_gateway_active_streams{")
    )


async def test_a_thousand_concurrent_streams_all_complete_with_the_full_answer(service):
    process, base = service
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await wait_alive(session, base)
        rss_idle = status_kib(process.pid, "VmRSS")

        async def stream(number: int) -> tuple[int, bytes]:
            body = {"query": f"Question {number}: what does this gateway do?"}
            async with session.post(f"{base}/v1/streaming_query", json=body) as response:
                return response.status, await response.read()

        peak = 0.0
        done = asyncio.Event()

        async def watch() -> None:
            nonlocal peak
            async with aiohttp.ClientSession() as probe:
                while not done.is_set():
                    peak = max(peak, await active_streams(probe, base))
                    await asyncio.sleep(0.1)

        watcher = asyncio.create_task(watch())
        started = time.monotonic()
        results = await asyncio.gather(*(stream(number) for number in range(STREAMS)))
        wall = time.monotonic() - started
        done.set()
        await watcher
        rss_peak = status_kib(process.pid, "VmHWM")
        assert await active_streams(session, base) == 0

    statuses = [status for status, _ in results]
    assert statuses == [200] * STREAMS
    answers, kinds = set(), set()
    for number, (_, body) in enumerate(results):
        frames = events(body)
        names = [frame["event"] for frame in frames]
        assert "error" not in names
        assert names[0] == "start"
        assert names[-2:] == ["turn_complete", "end"]
        answers.add(frames[-2]["data"]["token"])
        assert f'"query": "Question {number}: what does this gateway do?"' in body.decode()
        kinds.add(tuple(name for name in names if name != "heartbeat"))
        assert len(frames[-1]["data"]["referenced_documents"]) == 2
    assert len(answers) == 1, "every stream got the whole, same answer"
    assert len(kinds) == 1, "every stream got the same frames (heartbeats aside)"
    assert peak == STREAMS, f"at most {peak:.0f} streams were open at once"
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(
        json.dumps(
            {
                "generated": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                "streams": STREAMS,
                "peak_open_streams": peak,
                "demo_delay": DEMO_DELAY,
                "scripted_turn_seconds": round(SCRIPTED_SECONDS, 2),
                "wall_seconds": round(wall, 2),
                "service_rss_idle_kib": rss_idle,
                "service_rss_peak_kib": rss_peak,
                "frames_per_stream": len(events(results[0][1])),
            },
            indent=1,
        )
        + "\n"
    )
    assert wall < 45
