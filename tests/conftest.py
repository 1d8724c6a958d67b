"""Shared fixtures: a clean environment, the fake upstreams, and service clients."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pytest_aiohttp import AiohttpClient, AiohttpServer

from fakes.agents_upstream import FakeAgentsUpstream
from fakes.responses_upstream import FakeResponsesUpstream
from service.http.app import create_app
from service.settings import Settings
from service.upstream import Upstream

pytest_plugins = ["pytester", "tests.route_statuses"]

MakeClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the machine's environment out of the settings tests build."""
    for name in [*Settings.model_fields, "service_config"]:
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def fake_agents() -> FakeAgentsUpstream:
    return FakeAgentsUpstream()


@pytest.fixture
async def agents_server(
    aiohttp_server: AiohttpServer, fake_agents: FakeAgentsUpstream
) -> TestServer:
    return await aiohttp_server(fake_agents.app())


@pytest.fixture
def fake_responses() -> FakeResponsesUpstream:
    """The fake Responses upstream (modules that script it their own way define their own)."""
    return FakeResponsesUpstream()


@pytest.fixture
async def responses_server(
    aiohttp_server: AiohttpServer, fake_responses: FakeResponsesUpstream
) -> TestServer:
    return await aiohttp_server(fake_responses.app())


@pytest.fixture
def make_client(aiohttp_client: AiohttpClient) -> MakeClient:
    """Build the service with settings overrides (and optionally a given upstream)."""

    async def make(upstream: Upstream | None = None, **overrides: Any) -> TestClient[Any, Any]:
        settings = Settings(**{"demo_delay": 0, **overrides})
        return await aiohttp_client(create_app(settings, upstream=upstream))

    return make


@pytest.fixture
async def agents_client(make_client: MakeClient, agents_server: TestServer) -> Any:
    """The service in front of the fake Agents upstream (1 s heartbeats)."""

    async def make(**overrides: Any) -> TestClient[Any, Any]:
        settings = {
            "llama_stack_base_url": str(agents_server.make_url("/")),
            "llama_stack_api": "agents",
            "heartbeat_interval": 1.0,
            **overrides,
        }
        return await make_client(**settings)

    return make


CHAT = {"model": "vllm/fake-model", "messages": [{"role": "user", "content": "Say hello."}]}
"""A minimal chat completion request (non-streamed)."""
NON_STREAMED_ANSWERS = [
    ("/v1/chat/completions", CHAT, "chat.completion"),
    ("/v1/query", {"query": "Say hello."}, "query"),
]
"""The routes that answer a turn whole: path, body, and the label of its metrics and span."""


def split_frames(body: bytes) -> list[str]:
    """Split an SSE body into frames, each ending with its blank line."""
    text = body.decode()
    assert text.endswith("\n\n"), f"stream does not end with a complete frame: {text[-80:]!r}"
    return [frame + "\n\n" for frame in text[:-2].split("\n\n")]


@pytest.fixture
async def serve_like_production() -> Any:
    """Run an app the way `python -m service` does (no handler cancellation); yield its URL."""
    from aiohttp import web

    runners: list[web.AppRunner] = []

    async def serve(app: web.Application) -> str:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield serve
    for runner in runners:
        await runner.cleanup()
