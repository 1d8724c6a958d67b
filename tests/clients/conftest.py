"""The live service the real clients talk to, in front of the fake Agents upstream."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.clients.scenarios import HEARTBEAT
from tests.fakes.agents_upstream import FakeAgentsUpstream, Step

LiveService = Callable[[list[Step]], Awaitable[str]]


@pytest.fixture
def live_service(agents_client: Any, fake_agents: FakeAgentsUpstream) -> LiveService:
    """Start the service on 127.0.0.1 in front of the fake upstream; return its base URL."""

    async def start(steps: list[Step]) -> str:
        fake_agents.steps = steps
        client = await agents_client(heartbeat_interval=HEARTBEAT)
        return str(client.make_url("")).rstrip("/")

    return start
