"""The fake llama-stack Agents API (0.2) for the benchmarks: as fast as it can, or not at all.

Run as its own process: `python -m bench.upstream --port P`. It is the tests' fake
(tests/fakes/agents_upstream.py) with a script read from the turn request's user message:

- `tokens=N`: a long answer of N text deltas (one `step_progress` chunk each, one write each,
  the real llama-stack 0.2.23 chunk shapes of `agents-0.2.23/long.sse`), then `step_complete`
  and `turn_complete` carrying the whole text;
- `tokens=N pace=S`: the same answer, one delta every S seconds (a model at its real pace);
- `silent=S`: the response headers, then nothing for S seconds (an agent that is thinking),
  then a one-token answer.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import socket
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.paths import AGENTS_FIXTURES
from tests.fakes.agents_upstream import FakeAgentsUpstream, Sleep, Step

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


def bench_script(body: dict[str, Any]) -> list[Step]:
    """Return the steps of the turn the request's last message asks for (see the module doc)."""
    asked = dict(_REQUEST.findall(str(body["messages"][-1]["content"])))
    if "silent" in asked:
        first, *rest = answer_frames(1)
        return [first, Sleep(float(asked["silent"])), *rest]
    frames = answer_frames(int(asked.get("tokens", "10")))
    if "pace" not in asked:
        return list(frames)
    pace = Sleep(float(asked["pace"]))
    return [step for frame in frames for step in (frame, pace)]


def fake_agents() -> FakeAgentsUpstream:
    """Return the fake upstream the benchmarks run: one model, turns by `bench_script`."""
    model = {
        "identifier": MODEL,
        "provider_resource_id": MODEL,
        "provider_id": "bench",
        "type": "model",
        "metadata": {},
        "model_type": "llm",
    }
    return FakeAgentsUpstream(script=bench_script, models=[model])


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Serve the fake upstream until killed."""
    sock = socket.create_server((host, port), backlog=4096, reuse_port=False)
    web.run_app(fake_agents().app(), sock=sock, access_log=None, print=None, backlog=4096)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve(args.port)


if __name__ == "__main__":
    main()
