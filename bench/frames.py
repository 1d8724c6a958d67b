"""Benchmark 1, frame building: recorded Agents-API wire bytes -> SSE frame bytes, per core.

Ours: the service's own code, in this process: `SSEDecoder.feed` on each upstream write,
the Agents adapter's `add_chunk` (`parse_chunk`, `normalize_chunk`), the pump's `Framer`
(`EndBuilder`, `Formatter.format`) and the one encoder, `encode`, with UTF-8 (the functions
`service/upstream/agents.py` and `service/streams/pipeline.py` run per chunk, without the
event loop), for every built-in formatter. lightspeed-stack 0.1.3: its own code in its own venv
(bench/lightspeed_frames.py), same pieces. Figures are upstream chunks
(SSE events) per CPU second; both sides take the best of several rounds.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.paths import AGENTS_FIXTURES, ORACLE_VENV, REPO, RESPONSES_FIXTURES
from bench.report import Context, Headline, Result, Table, num, ratio
from formatters.base import Formatter
from formatters.events import Event, StartEvent
from formatters.frames import encode
from service.streams.pipeline import EndBuilder, Framer
from service.streams.registry import load_registry
from service.upstream.agents import add_chunk
from service.upstream.json_chunks import parse_chunk
from service.upstream.responses_normalizer import ResponsesNormalizer
from service.upstream.sse import SSEDecoder

FIXTURES = ("long", "mcp", "shield-safe", "text", "tool")
BUILTIN_FORMATS = (
    "lightspeed-0.1",
    "patternfly",
    "raw",
    "openai",
    "responses",
    "vercel",
    "anthropic",
    "ag-ui",
    "a2a",
)
PEER_FORMAT = "lightspeed-0.1"
"""The format whose bodies are lightspeed-stack 0.1.3's bytes: the one the ratio compares."""
CONVERSATION_ID = "c0ffee00-0000-4000-8000-000000000000"
TARGET = 10.0


RESPONSES_CAPTURES = ("long", "mcp", "file_search", "text", "tool")

AddChunk = Callable[[list[Event], int, str], object]
"""An adapter's per-chunk step: add one SSE event's normalized events to the read's batch."""


def fixture_pieces(name: str, directory: Path = AGENTS_FIXTURES) -> list[bytes]:
    """The fixture's bytes as the upstream wrote them: one `data:` frame per write."""
    raw = (directory / f"{name}.sse").read_bytes()
    return [frame + b"\n\n" for frame in raw.split(b"\n\n") if frame.strip()]


def agents_path() -> AddChunk:
    """The Agents adapter's `add_chunk`: parse and normalize one chunk into the read's batch."""
    return add_chunk


def responses_path() -> AddChunk:
    """The Responses adapter's per-chunk work, with a fresh normalizer (one per stream)."""
    normalize = ResponsesNormalizer().normalize

    def add(batch: list[Event], index: int, data: str) -> None:
        batch += normalize(index, parse_chunk(data))

    return add


def build_body(
    pieces: list[bytes],
    formatter_class: type[Formatter],
    path: Callable[[], AddChunk] = agents_path,
) -> bytes:
    """Run the service's per-chunk path over `pieces`; return the response body it writes.

    The production functions, each piece one upstream read: `SSEDecoder.feed`, the adapter's
    per-chunk step (`path`: parse and normalize one chunk into the read's batch), the pump's
    `Framer.frames` (the end's facts, `Formatter.format`) and one `encode` per batch.
    """
    add = path()
    end = EndBuilder()
    framer = Framer(formatter_class(), end)
    decoder = SSEDecoder()
    body = [encode(framer.frames(StartEvent(conversation_id=CONVERSATION_ID))).encode()]
    index = 0
    for piece in pieces:
        batch: list[Event] = []
        for sse in decoder.feed(piece):
            add(batch, index, sse.data)
            index += 1
        frames = [frame for event in batch for frame in framer.frames(event)]
        if frames:
            body.append(encode(frames).encode())
    body.append(encode(framer.frames(end.build())).encode())
    return b"".join(body)


def measure_ours(
    pieces: list[bytes],
    formatter_class: type[Formatter],
    repeat: int,
    rounds: int,
    path: Callable[[], AddChunk] = agents_path,
):
    """Best round's CPU seconds for `repeat` runs, and the last body."""
    best = float("inf")
    body = b""
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(repeat):
            body = build_body(pieces, formatter_class, path)
        best = min(best, time.process_time() - started)
    return best, body


def measure_lightspeed(fixtures: dict[str, list[bytes]], repeat: int, rounds: int) -> Any:
    """Run bench/lightspeed_frames.py in the oracle venv; its results, or a reason it could not."""
    interpreter = ORACLE_VENV / "bin" / "python"
    if not interpreter.exists():
        return f"{ORACLE_VENV.name} is not built (tests/oracle/make_venv.sh)"
    job = {
        "fixtures": {name: [p.decode("latin-1") for p in ps] for name, ps in fixtures.items()},
        "repeat": repeat,
        "rounds": rounds,
        "conversation_id": CONVERSATION_ID,
    }
    done = subprocess.run(
        [str(interpreter), str(REPO / "bench" / "lightspeed_frames.py")],
        input=json.dumps(job).encode(),
        capture_output=True,
        timeout=600,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    if done.returncode != 0:
        return f"lightspeed_frames.py failed ({done.returncode}): {done.stderr.decode()[-500:]}"
    return json.loads(done.stdout)


def run(ctx: Context) -> Result:
    """Events per CPU second, ours (each format) vs lightspeed-stack 0.1.3, per fixture."""
    result = Result("frames")
    rounds = ctx.pick(2, 5)
    budget = ctx.pick(600, 12_000)  # chunks per round and fixture
    fixtures = {name: fixture_pieces(name) for name in FIXTURES}
    repeats = {name: max(1, budget // len(pieces)) for name, pieces in fixtures.items()}
    lightspeed = {}
    for name, pieces in fixtures.items():
        answer = measure_lightspeed({name: pieces}, repeats[name], rounds)
        if isinstance(answer, str):
            lightspeed = answer
            break
        lightspeed.update(answer)
    registry = load_registry()
    formats = [name for name in BUILTIN_FORMATS if name in registry.names()]
    table = Table(
        "Frame building: chunks per CPU second (one core)",
        ["fixture (chunks)", "lightspeed-stack 0.1.3", *[f"ours `{f}`" for f in formats], "ratio"],
    )
    ratios = {}
    for name, pieces in fixtures.items():
        chunks = len(pieces) * repeats[name]
        cells: list[str] = []
        peer_rate = None
        if isinstance(lightspeed, dict):
            peer = lightspeed[f"{name}/client+stream_build_event"]
            peer_rate = chunks / peer["cpu_seconds"]
            cells.append(num(peer_rate))
        else:
            cells.append("n/a")
        ours_rate = None
        for fmt in formats:
            cpu, body = measure_ours(pieces, registry.get(fmt), repeats[name], rounds)
            rate = chunks / cpu
            cells.append(num(rate))
            if fmt == PEER_FORMAT:
                ours_rate = rate
                if isinstance(lightspeed, dict):
                    digest = hashlib.sha256(body).hexdigest()
                    if digest != lightspeed[f"{name}/client+stream_build_event"]["sha256"]:
                        table.notes.append(
                            f"{name}: our {PEER_FORMAT} body differs from lightspeed-stack's "
                            "(see tests/oracle for the deliberate differences)"
                        )
        if peer_rate and ours_rate:
            ratios[name] = ours_rate / peer_rate
            cells.append(ratio(ours_rate, peer_rate))
        else:
            cells.append("n/a")
        table.add(f"{name} ({len(pieces)})", *cells)
    if isinstance(lightspeed, dict):
        handler = lightspeed["long/handler"]
        base = lightspeed["long/client+stream_build_event"]
        table.notes.append(
            "lightspeed-stack column: llama-stack-client 0.2.16's SSE decoder and "
            "`_process_response_data` + `stream_build_event` (the handler's own extra "
            "`json.loads` of every frame left out: with it, lightspeed needs "
            f"{handler['cpu_seconds'] / base['cpu_seconds']:.2f}x the CPU on long.sse)."
        )
        table.notes.append(
            f"ratio: ours `{PEER_FORMAT}` / lightspeed-stack; the {PEER_FORMAT} bodies are checked "
            "byte-identical (SHA-256) to lightspeed-stack's for the same chunks."
        )
        worst = min(ratios.values()) if ratios else 0.0
        result.headlines.append(
            Headline(
                "1 frames",
                f"chunks/s per core, ours {PEER_FORMAT} ÷ lightspeed-stack"
                " (long.sse; worst fixture)",
                f"{ratios.get('long', 0):.1f}x ({worst:.1f}x)",
                f"≥ {TARGET:g}x",
                worst >= TARGET,
            )
        )
    else:
        table.notes.append(f"lightspeed-stack not measured: {lightspeed}")
    result.tables.append(table)
    result.tables.append(responses_table(rounds, budget, formats))
    return result


def responses_table(rounds: int, budget: int, formats: list[str]) -> Table:
    """The Responses path (llama-stack 0.7.3 captures): events per CPU second, every format."""
    registry = load_registry()
    table = Table(
        "Frame building, Responses API (`responses-0.7.3` captures): events per CPU second",
        ["capture (events)", *[f"ours `{f}`" for f in formats]],
    )
    for name in RESPONSES_CAPTURES:
        pieces = fixture_pieces(name, RESPONSES_FIXTURES)
        repeat = max(1, budget // len(pieces))
        cells = [
            num(
                len(pieces)
                * repeat
                / measure_ours(pieces, registry.get(fmt), repeat, rounds, responses_path)[0]
            )
            for fmt in formats
        ]
        table.add(f"{name} ({len(pieces)})", *cells)
    table.notes.append(
        "The same per-chunk path as above with the Responses normalizer: `SSEDecoder.feed`, "
        "`parse_chunk`, `ResponsesNormalizer.normalize`, `EndBuilder`, `Formatter.format`."
    )
    return table
