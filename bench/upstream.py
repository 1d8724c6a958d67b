"""The benchmarks' fake llama-stack (Agents 0.2, Responses 0.7 / OGX 1.x), as fast as it can.

Run as its own process: `python -m bench.upstream --port P [--version 1.2.5]`. It is the tests'
fake (`fakes.upstream.FakeUpstream`: both APIs on one server) with a script made from the turn
request's user message (the Agents turn's, or anywhere in the Responses request's `input`):

- `tokens=N`: a long answer of N text deltas (one `step_progress` chunk each, one write each,
  the real llama-stack 0.2.23 chunk shapes of `agents-0.2.23/long.sse`), then `step_complete`
  and `turn_complete` carrying the whole text;
- `tokens=N pace=S`: the same answer, one delta every S seconds (a model at its real pace);
- `silent=S`: the response headers, then nothing for S seconds (an agent that is thinking),
  then a one-token answer.

On the Responses API the answer is made of the real llama-stack 0.7.3 event shapes of
`responses-0.7.3/long.sse` (one `response.output_text.delta` per token, one write each).
`--version` is the server version it reports (and checks clients against, as OGX does):
lightspeed-stack 0.7.1 pins OGX 1.2.5's client and refuses another.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import socket
from collections.abc import Callable
from functools import cache
from typing import Any

from aiohttp import web

from fakes.agents_upstream import FakeAgentsUpstream, Sleep, Step, fixture_chunks
from fakes.responses_upstream import FakeResponsesUpstream, fixture_events
from fakes.upstream import FakeUpstream

MODEL = "bench/fake-model"
MODELS = [{"id": MODEL, "model_type": "llm"}]
_REQUEST = re.compile(r"(tokens|silent|pace)=([0-9.]+)")
_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")


def _line(chunk: object) -> bytes:
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def token_text(index: int) -> str:
    """Return the text of the answer's `index`-th delta."""
    return f"{_WORDS[index % len(_WORDS)]}{index} "


@cache
def answer_frames(tokens: int) -> tuple[bytes, ...]:
    """Return the SSE frames of an answer of `tokens` text deltas (one frame per upstream write)."""
    chunks = fixture_chunks("long.sse")
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
    events = fixture_events("long.sse")
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


def script(content: str, frames_of: Callable[[int], tuple[bytes, ...]]) -> list[Step]:
    """The steps of the answer `content` asks for (`tokens=N`, `pace=S`, `silent=S`)."""
    asked = dict(_REQUEST.findall(content))
    if "silent" in asked:
        first, *rest = frames_of(1)
        return [first, Sleep(float(asked["silent"])), *rest]
    frames = frames_of(int(asked.get("tokens", "10")))
    if "pace" in asked:
        pause = Sleep(float(asked["pace"]))
        return [step for frame in frames for step in (frame, pause)]
    return list(frames)


def agents_script(body: dict[str, Any]) -> list[Step]:
    """An Agents turn's steps, from its last message."""
    return script(str(body["messages"][-1]["content"]), answer_frames)


def responses_script(body: dict[str, Any]) -> list[Step]:
    """A Responses request's steps, from its `input` (a string, or messages: lightspeed's)."""
    return script(json.dumps(body["input"]), responses_frames)


def fake(version: str = "0.7.3") -> FakeUpstream:
    """The benchmarks' fake: both APIs, the bench model, the scripts above."""
    return FakeUpstream(
        FakeAgentsUpstream(script=agents_script),
        FakeResponsesUpstream(script=responses_script, server_version=version, models=MODELS),
    )


def serve(port: int, version: str = "0.7.3", host: str = "127.0.0.1") -> None:
    """Serve the fake upstream until killed."""
    sock = socket.create_server((host, port), backlog=4096, reuse_port=False)
    web.run_app(fake(version).app(), sock=sock, access_log=None, print=None, backlog=4096)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--version", default="0.7.3", help="the server version it reports")
    args = parser.parse_args()
    serve(args.port, args.version)


if __name__ == "__main__":
    main()
