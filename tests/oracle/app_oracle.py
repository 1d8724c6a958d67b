"""The 0.7.1 oracle's driver: lightspeed-stack 0.7.1's app in front of a fake OGX 1.2.5.

The app (tests/oracle/lightspeed_app.py, in the venv of `make_release_venv.sh 0.7.1`) runs as a
subprocess on 127.0.0.1; the fake OGX (tests/fakes/responses_upstream.py) runs in this process
and replays one capture per query.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.fakes.responses_upstream import FakeResponsesUpstream, Step
from tests.paths import REPO

PYTHON = REPO / ".venv-oracle-0.7.1" / "bin" / "python"
BUILD = "tests/oracle/make_release_venv.sh 0.7.1"
STARTUP_SECONDS = 120.0
QUERY = {"query": "Say hello.", "generate_topic_summary": False}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AppOracle:
    """A running 0.7.1 app and the fake OGX behind it."""

    fake: FakeResponsesUpstream
    url: str
    session: aiohttp.ClientSession

    async def body(self, steps: list[Step]) -> str:
        """The body 0.7.1 streams for one query whose upstream turn is `steps`."""
        self.fake.steps = steps
        async with self.session.post(f"{self.url}/v1/streaming_query", json=QUERY) as response:
            return (await response.read()).decode()


def require(python: Path = PYTHON) -> Path:
    """Return the 0.7.1 venv's python; skip (or fail under CI) without the venv."""
    if not python.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the oracle environment {python.parent.parent} is missing: run {BUILD}")
        pytest.skip(f"no {python.parent.parent.name}: run `make oracle` (make test builds it)")
    return python


@asynccontextmanager
async def app_oracle(python: Path) -> AsyncIterator[AppOracle]:
    """Start the fake OGX and the 0.7.1 app (`python`: its venv's, from `require`)."""
    fake = FakeResponsesUpstream(server_version="1.2.5")
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    upstream_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        str(python),
        str(REPO / "tests" / "oracle" / "lightspeed_app.py"),
        "--upstream",
        f"http://127.0.0.1:{upstream_port}",
        "--port",
        str(port),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                try:
                    async with session.get(f"{url}/readiness"):
                        break
                except aiohttp.ClientConnectionError:
                    if process.returncode is not None or time.monotonic() > deadline:
                        raise RuntimeError("lightspeed-stack 0.7.1 did not start") from None
                    await asyncio.sleep(0.5)
            yield AppOracle(fake, url, session)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        await runner.cleanup()
