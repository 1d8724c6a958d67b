"""Fixtures of the real-client tests: the Node binary, and the live service the clients talk to."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from fakes.agents_upstream import FakeAgentsUpstream, Step
from tests.clients.scenarios import HEARTBEAT

LiveService = Callable[[list[Step]], Awaitable[str]]
INSTALLED = Path(__file__).parent / "node_modules" / ".package-lock.sha256"


@pytest.fixture(scope="session")
def node() -> str:
    """The node binary, with the locked client packages installed."""
    binary = shutil.which("node")
    if binary is None:
        pytest.fail("node (v20+) is not on PATH; the client tests need it")
    if not INSTALLED.exists():
        pytest.fail(
            "the Node clients are not installed: run scripts/npm-ci.sh tests/clients (make test does)"
        )
    return binary


@pytest.fixture
def live_service(agents_client: Any, fake_agents: FakeAgentsUpstream) -> LiveService:
    """Start the service on 127.0.0.1 in front of the fake upstream; return its base URL."""

    async def start(steps: list[Step]) -> str:
        fake_agents.steps = steps
        client = await agents_client(heartbeat_interval=HEARTBEAT)
        return str(client.make_url("")).rstrip("/")

    return start
