"""A fake llama-stack for the benchmarks (Agents API 0.2, Responses API 0.7): as fast as it can.

Run as its own process: `python -m bench.upstream --port P`. The turn request's user message
(the Agents turn's, or the Responses request's `input`) says what to stream:

- `tokens=N`: a long answer of N text deltas (one `step_progress` chunk each, one write each,
  the real llama-stack 0.2.23 chunk shapes of `agents-0.2.23/long.sse`), then `step_complete`
  and `turn_complete` carrying the whole text;
- `tokens=N pace=S`: the same answer, one delta every S seconds (a model at its real pace);
- `silent=S`: the response headers, then nothing for S seconds (an agent that is thinking),
  then a one-token answer.

On the Responses API the answer is made of the real llama-stack 0.7.3 event shapes of
`responses-0.7.3/long.sse` (one `response.output_text.delta` per token, one write each).
It answers every other call lightspeed-stack 0.1.3 and the service make before a turn
(models, shields, vector DBs, agent and session creation, health; on the Responses API the
version, the models and conversation creation).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import json
import re
import socket
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.paths import AGENTS_FIXTURES, RESPONSES_FIXTURES

MODEL = "bench/fake-model"
_REQUEST = re.compile(r"(tokens|silent|pace)=([0-9.]+)")
_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")


def _fixture_chunks() -> list[dict[str, Any]]:
    raw = (Path(AGENTS_FIXTURES) / "long.sse").read_bytes()
    return [json.loads(f.decode()[len("data: ") :]) for f in raw.split(b"\n\n") if f.strip()]


def _line(chunk: object) -> bytes:
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


def _responses_events() -> list[dict[str, Any]]:
    raw = (Path(RESPONSES_FIXTURES) / "long.sse").read_bytes()
    return [json.loads(f.decode()[len("data: ") :]) for f in raw.split(b"\n\n") if f.strip()]


def _replace_text(value: object, old: str, new: str) -> object:
    """`value` with every string equal to `old` (the fixture's whole answer) made `new`."""
    if isinstance(value, dict):
        return {k: _replace_text(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_text(v, old, new) for v in value]
    return new if value == old else value


@cache
def responses_frames(tokens: int) -> tuple[bytes, ...]:
    """Return the SSE frames of a Responses answer of `tokens` text deltas (one write each)."""
    events = _responses_events()
    deltas = [i for i, e in enumerate(events) if e["type"] == "response.output_text.delta"]
    first, last = deltas[0], deltas[-1]
    old = "".join(events[i]["delta"] for i in deltas)
    texts = [token_text(index) for index in range(tokens)]
    new = "".join(texts)
    body = []
    for index, text in enumerate(texts):
        delta = dict(events[first])
        delta["delta"], delta["sequence_number"] = text, first + index
        body.append(delta)
    after = [_replace_text(e, old, new) for e in events[last + 1 :]]
    frames = [*events[:first], *body, *after]
    for number, event in enumerate(frames):
        if isinstance(event, dict) and "sequence_number" in event:
            event["sequence_number"] = number
    return tuple(_line(event) for event in frames)


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
        app.router.add_get("/v1/version", self._version)
        app.router.add_post("/v1/conversations", self._conversation)
        app.router.add_post("/v1/responses", self._responses)
        return app

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response({"version": "0.7.3"})

    async def _conversation(self, request: web.Request) -> web.Response:
        await request.read()
        conversation = f"conv_{next(self._ids):048x}"
        return web.json_response(
            {"id": conversation, "object": "conversation", "created_at": 0, "metadata": None}
        )

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
        return await self._stream(request, str(body["messages"][-1]["content"]), answer_frames)

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        return await self._stream(request, str(body["input"]), responses_frames)

    async def _stream(
        self, request: web.Request, content: str, frames_of: Callable[[int], tuple[bytes, ...]]
    ) -> web.StreamResponse:
        asked = dict(_REQUEST.findall(content))
        self.turns += 1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        try:
            if "silent" in asked:
                frames = frames_of(1)
                await response.write(frames[0])
                await asyncio.sleep(float(asked["silent"]))
                for frame in frames[1:]:
                    await response.write(frame)
            elif "pace" in asked:
                pace = float(asked["pace"])
                for frame in frames_of(int(asked.get("tokens", "10"))):
                    await response.write(frame)
                    await asyncio.sleep(pace)
            else:
                for frame in frames_of(int(asked.get("tokens", "10"))):
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
