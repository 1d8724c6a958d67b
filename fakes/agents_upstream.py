"""A fake llama-stack Agents API server that replays real wire bytes, step by step."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from fakes.fixtures import AGENTS_FIXTURES, capture_events, capture_frames


@dataclass
class Sleep:
    """Stay silent for this many seconds."""

    seconds: float


@dataclass
class Drop:
    """Cut the connection without ending the chunked body."""


@dataclass
class Status:
    """Answer the turn request with this HTTP status instead of a stream."""

    code: int
    body: str = '{"detail": "boom"}'


Step = bytes | Sleep | Drop | Status
Script = Callable[[dict[str, Any]], list[Step]]
"""What a turn streams, decided from its request body."""


def fixture_steps(name: str) -> list[Step]:
    """Return a fixture's `data:` frames as separate writes."""
    steps: list[Step] = [*capture_frames(AGENTS_FIXTURES / name)]
    return steps


def fixture_chunks(name: str | Path) -> list[dict[str, Any]]:
    """Return a fixture's chunks as decoded JSON."""
    return capture_events(name if isinstance(name, Path) else AGENTS_FIXTURES / name)


@dataclass
class ScriptedTurns:
    """What both fakes share: play a turn's steps, and record when and how it started and ended."""

    turn_started: asyncio.Event = field(default_factory=asyncio.Event)
    turn_ended: asyncio.Event = field(default_factory=asyncio.Event)
    ended_at: float | None = None
    end_reason: str = ""

    async def play(
        self, request: web.Request, response: web.StreamResponse, steps: list[Step]
    ) -> web.StreamResponse:
        """Write the steps to the prepared response: bytes, silences, a dropped connection."""
        self.turn_started.set()
        try:
            for step in steps:
                if isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                elif isinstance(step, Drop):
                    assert request.transport is not None
                    request.transport.abort()
                    self._end("dropped")
                    return response
                elif isinstance(step, bytes):
                    await response.write(step)
            await response.write_eof()
            self._end("completed")
        except asyncio.CancelledError:
            self._end("cancelled")
            raise
        except ConnectionError:
            self._end("client_gone")
        return response

    def _end(self, reason: str) -> None:
        self.ended_at = time.monotonic()
        self.end_reason = reason
        self.turn_ended.set()


def _test_models() -> list[dict[str, Any]]:
    return [
        {"identifier": "all-minilm", "model_type": "embedding"},
        {"identifier": "vllm/fake-model", "model_type": "llm"},
    ]


@dataclass
class FakeAgentsUpstream(ScriptedTurns):
    """State and script of the fake server (the tests' and the benchmarks').

    A turn streams `script(body)` when a script is given (the benchmarks', bench/upstream.py),
    else `steps`.
    It answers every other call lightspeed-stack 0.1.3 and the service make before a turn.
    """

    steps: list[Step] = field(default_factory=list)
    script: Script | None = None
    models: list[dict[str, Any]] = field(default_factory=_test_models)
    turns: list[dict[str, Any]] = field(default_factory=list)
    agents: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    session_names: list[str] = field(default_factory=list)
    session_turns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Turns `GET /v1/agents/{agent_id}/session/{session_id}` lists, by session."""
    deleted: list[str] = field(default_factory=list)
    health_status: int = 200
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_routes(self.routes())
        return app

    def routes(self) -> list[web.RouteDef]:
        """The server's routes."""
        session = "/v1/agents/{agent_id}/session/{session_id}"
        return [
            web.get("/v1/health", self._health),
            web.get("/v1/models", self._models),
            web.get("/v1/shields", self._empty),
            web.get("/v1/vector-dbs", self._empty),
            web.post("/v1/agents", self._create_agent),
            web.post("/v1/agents/{agent_id}/session", self._create_session),
            web.post(f"{session}/turn", self._turn),
            web.get(session, self._get_session),
            web.delete(session, self._delete_session),
        ]

    async def _health(self, request: web.Request) -> web.Response:
        if self.health_status != 200:
            return web.json_response({"detail": "not healthy"}, status=self.health_status)
        return web.json_response({"status": "OK"})

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"data": self.models})

    async def _empty(self, request: web.Request) -> web.Response:
        return web.json_response({"data": []})

    async def _create_agent(self, request: web.Request) -> web.Response:
        self.agents.append(await request.json())
        return web.json_response({"agent_id": f"agent-{next(self._ids)}"})

    async def _create_session(self, request: web.Request) -> web.Response:
        session_id = str(uuid.uuid4())  # as llama-stack mints them: unique, also in a shared Redis
        self.sessions.append(session_id)
        self.session_names.append((await request.json())["session_name"])
        return web.json_response({"session_id": session_id})

    async def _get_session(self, request: web.Request) -> web.Response:
        session_id = request.match_info["session_id"]
        if session_id not in self.sessions:
            return web.json_response({"detail": f"Session {session_id} not found"}, status=404)
        name = self.session_names[self.sessions.index(session_id)]
        turns = self.session_turns.get(session_id, [])
        session = {"session_id": session_id, "session_name": name, "turns": turns}
        return web.json_response({**session, "started_at": "2025-01-01T00:00:00Z"})

    async def _delete_session(self, request: web.Request) -> web.Response:
        session_id = request.match_info["session_id"]
        if session_id not in self.sessions:
            return web.json_response({"detail": f"Session {session_id} not found"}, status=404)
        self.session_names.pop(self.sessions.index(session_id))
        self.sessions.remove(session_id)
        self.deleted.append(session_id)
        return web.Response(status=200, text="null", content_type="application/json")

    async def _turn(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.turns.append({**request.match_info, "body": body})
        steps = self.script(body) if self.script is not None else list(self.steps)
        if steps and isinstance(steps[0], Status):
            return web.Response(
                status=steps[0].code, text=steps[0].body, content_type="application/json"
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        return await self.play(request, response, steps)
