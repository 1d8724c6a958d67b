"""A fake llama-stack Agents API (0.2) for the benchmarks: answers as fast as it can, or not at all.

Run as its own process: `python -m bench.upstream --port P`. The turn request's user message
says what to stream:

- `tokens=N`: a long answer of N text deltas (one `step_progress` chunk each, one write each,
  the real llama-stack 0.2.23 chunk shapes of `agents-0.2.23/long.sse`), then `step_complete`
  and `turn_complete` carrying the whole text;
- `tokens=N pace=S`: the same answer, one delta every S seconds (a model at its real pace);
- `silent=S`: the response headers, then nothing for S seconds (an agent that is thinking),
  then a one-token answer.

It answers every other call lightspeed-stack 0.1.3 and the service make before a turn
(models, shields, vector DBs, agent and session creation, health).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import json
import re
import socket
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.paths import AGENTS_FIXTURES

MODEL = "bench/fake-model"
_REQUEST = re.compile(r"(tokens|silent|pace)=([0-9.]+)")
_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")


def _fixture_chunks() -> list[dict[str, Any]]:
    raw = (Path(AGENTS_FIXTURES) / "long.sse").read_bytes()
    return [json.loads(f.decode()[len("data: ") :]) for f in raw.split(b"\n\n") if f.strip()]


def _line(chunk: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def token_text(index: int) -> str:
    """Return the text of the answer's `index`-th delta."""
    return f"{_WORDS[index % len(_WORDS)]}{index} "


@cache
def answer_frames(tokens: int) -> tuple[bytes, ...]:
    """Return the SSE frames of an answer of `tokens` text deltas (one frame per upstream write)."""
    chunks = _fixture_chunks()
    start, progress, complete, turn = chunks[0], chunks[1], chunks[-2], chunks[-1]
    frames = [_line(start)]
    texts = []
    for index in range(tokens):
        text = token_text(index)
        texts.append(text)
        chunk = copy.deepcopy(progress)
        chunk["event"]["payload"]["delta"]["text"] = text
        frames.append(_line(chunk))
    full = "".join(texts)
    complete = copy.deepcopy(complete)
    complete["event"]["payload"]["step_details"]["model_response"]["content"] = full
    frames.append(_line(complete))
    turn = copy.deepcopy(turn)
    turn["event"]["payload"]["turn"]["steps"][0]["model_response"]["content"] = full
    turn["event"]["payload"]["turn"]["output_message"]["content"] = full
    turn["event"]["payload"]["turn"]["input_messages"][0]["content"] = "bench"
    frames.append(_line(turn))
    return tuple(frames)


class FakeAgents:
    """The fake server's handlers and counters."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.turns = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/health", self._health)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/v1/shields", self._empty)
        app.router.add_get("/v1/vector-dbs", self._empty)
        app.router.add_post("/v1/agents", self._agent)
        app.router.add_post("/v1/agents/{agent_id}/session", self._session)
        app.router.add_post("/v1/agents/{agent_id}/session/{session_id}/turn", self._turn)
        return app

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "OK"})

    async def _models(self, request: web.Request) -> web.Response:
        model = {
            "identifier": MODEL,
            "provider_resource_id": MODEL,
            "provider_id": "bench",
            "type": "model",
            "metadata": {},
            "model_type": "llm",
        }
        return web.json_response({"data": [model]})

    async def _empty(self, request: web.Request) -> web.Response:
        return web.json_response({"data": []})

    async def _agent(self, request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"agent_id": f"agent-{next(self._ids)}"})

    async def _session(self, request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"session_id": f"session-{next(self._ids):08d}"})

    async def _turn(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        content = str(body["messages"][-1]["content"])
        asked = dict(_REQUEST.findall(content))
        self.turns += 1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        try:
            if "silent" in asked:
                frames = answer_frames(1)
                await response.write(frames[0])
                await asyncio.sleep(float(asked["silent"]))
                for frame in frames[1:]:
                    await response.write(frame)
            elif "pace" in asked:
                pace = float(asked["pace"])
                for frame in answer_frames(int(asked.get("tokens", "10"))):
                    await response.write(frame)
                    await asyncio.sleep(pace)
            else:
                for frame in answer_frames(int(asked.get("tokens", "10"))):
                    await response.write(frame)
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            pass
        return response


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Serve the fake upstream until killed."""
    sock = socket.create_server((host, port), backlog=4096, reuse_port=False)
    web.run_app(FakeAgents().app(), sock=sock, access_log=None, print=None, backlog=4096)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve(args.port)


if __name__ == "__main__":
    main()
