"""The Responses oracles' driver: a lightspeed-stack release's app before a fake upstream.

The app (tests/oracle/lightspeed_app.py, in the venv of `make_release_venv.sh RELEASE`: 0.7.1
before a fake OGX 1.2.5, 0.4.2 before a fake llama-stack 0.4.3) runs as a subprocess on
127.0.0.1; the fake (fakes/responses_upstream.py) runs in this process and replays one
capture per query.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from fakes.agents_upstream import Step
from fakes.responses_upstream import (
    FakeResponsesUpstream,
    fixture_events,
    fixture_steps,
)
from formatters.base import Formatter
from formatters.events import ErrorEvent
from service.upstream.responses_normalizer import ResponsesNormalizer
from tests.oracle.harness import piped
from tests.paths import REPO

UPSTREAM_VERSION = {"0.7.1": "1.2.5", "0.4.2": "0.4.3"}
"""The upstream each release pins: OGX 1.2.5, llama-stack 0.4.3."""
STARTUP_SECONDS = 120.0
QUERY = {"query": "Say hello.", "generate_topic_summary": False}
CONVERSATION = "c0ffee00-0000-0000-0000-000000000000"
# Each side's own ids: the conversation (the release's: its upstream's, without `conv_`; ours: the gateway's)
# and the request id (a fresh UUID per request on both sides).
START = re.compile(r'"conversation_id": "[^"]*", "request_id": "[^"]*"')
START_IDS = '"conversation_id": "C", "request_id": "R"'
# 0.4.2 and 0.7.1 report an MCP server's tool listing as a call and result of its own (0.7.1 counts it as a
# round); the normalized events have no tool listing, so no other format shows it either.
LIST_TOOLS = re.compile(
    r'data: \{"event": "tool_(call|result)", "data": \{"id": "mcp_list_[^\n]*\n\n'
)
TOOL_FRAME = re.compile(r'data: \{"event": "tool_(call|result)", [^\n]*\n\n')


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


class FakeUpstream(FakeResponsesUpstream):
    """The fake upstream, also listing (no) vector stores and shields, which 0.4.2 asks for."""

    def app(self) -> web.Application:
        app = super().app()
        app.router.add_get("/v1/vector_stores", self._empty)
        app.router.add_get("/v1/shields", self._empty)
        return app

    async def _empty(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": []})


def require(release: str) -> Path:
    """Return the release's venv python; skip (or fail under CI) without the venv."""
    python = REPO / f".venv-oracle-{release}" / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI"):
            build = f"tests/oracle/make_release_venv.sh {release}"
            pytest.fail(f"the oracle environment {python.parent.parent} is missing: run {build}")
        pytest.skip(f"no {python.parent.parent.name}: run `make oracle` (make test builds it)")
    return python


@asynccontextmanager
async def app_oracle(release: str, python: Path) -> AsyncIterator[AppOracle]:
    """Start the fake upstream and the release's app (`python`: its venv's, from `require`)."""
    fake = FakeUpstream(server_version=UPSTREAM_VERSION[release])
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
                        raise RuntimeError(f"lightspeed-stack {release} did not start") from None
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


async def oracle_bodies(release: str, names: tuple[str, ...]) -> dict[str, str]:
    """The release's body for each named capture (one app for them all)."""
    async with app_oracle(release, require(release)) as app:
        return {name: await app.body(fixture_steps(f"{name}.sse")) for name in names}


def upstream_message(name: str) -> str:
    """The message of the capture's failure, as the normalizer reads it."""
    normalizer = ResponsesNormalizer()
    for index, raw in enumerate(fixture_events(f"{name}.sse")):
        for event in normalizer.normalize(index, raw):
            if isinstance(event, ErrorEvent):
                return event.message
    raise AssertionError(f"{name} has no failure")


async def ours(name: str, formatter: Formatter) -> str:
    """Our body for a capture: its events normalized, up to an error, through the pipeline."""
    normalizer = ResponsesNormalizer()
    raws = enumerate(fixture_events(f"{name}.sse"))
    body = await piped((normalizer.normalize(i, raw) for i, raw in raws), CONVERSATION, formatter)
    return START.sub(START_IDS, body)
