"""Benchmark 1, frame building: recorded wire bytes -> SSE frame bytes, per core.

Ours: the service's own code, in this process: on the Agents API `SSEDecoder.feed` on each
upstream write and the adapter's `add_chunk` (`quick_chunk`, `text_delta`, else `exact_chunk`,
`normalize_other`); on the Responses API the adapter's own reader (`OpenStream.read`:
`SSEDecoder.feed`, `quick_chunk`, `exact_chunk` where the normalizer reads numbers)
and its `TurnReads` (`ResponsesNormalizer.normalize`, the turn-end checks), driven without an
event loop; then the pump's `Framer` (`EndBuilder`, `Formatter.format`) and the one encoder,
`encode`, with UTF-8, for every built-in formatter. lightspeed-stack 0.1.3: its own code in its
own venv (bench/lightspeed_frames.py), same pieces. Captures: Agents `agents-0.2.23`, Responses
`responses-0.7.3` (llama-stack 0.7.3) and `tests/fixtures/ogx-1.5` (a real OGX 1.5, recorded by
scripts/record_ogx_captures.py). Figures are upstream chunks (SSE events) per CPU second; both
sides take the best of several rounds.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.paths import AGENTS_FIXTURES, OGX_FIXTURES, ORACLE_VENV, REPO, RESPONSES_FIXTURES
from bench.report import Context, Headline, Result, Table, num, ratio
from fakes.fixtures import capture_frames
from formatters.base import Formatter
from formatters.events import Event, StartEvent
from formatters.frames import encode
from service.streams.pipeline import EndBuilder, Framer
from service.streams.registry import load_registry
from service.upstream.agents import add_chunk
from service.upstream.responses import OpenStream, TurnReads
from service.upstream.sse import SSEDecoder

FIXTURES = ("long", "mcp", "shield-safe", "text", "tool")
BUILTIN_FORMATS = (
    "lightspeed-0.1",
    "lightspeed-0.7",
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
# BUILTIN_FORMATS is every benchmark's list of formats (frames, e2e, peers): a new format is one
# more name there (and, when its stream does not end with `"event": "end"`, an END_MARKERS entry
# in bench/e2e.py).
CONVERSATION_ID = "c0ffee00-0000-4000-8000-000000000000"
TARGET = 10.0


CAPTURE_SETS = (
    ("responses-0.7.3", RESPONSES_FIXTURES, ("long", "mcp", "file_search", "text", "tool")),
    ("ogx-1.5", OGX_FIXTURES, ("long", "mcp", "file_search", "text")),
)
"""The Responses captures the Responses table runs: (set, directory, names)."""

Batches = Callable[[list[bytes]], Iterator[list[Event]]]
"""An adapter's reading of a body: its pieces (one upstream read each) -> each read's events."""


def fixture_pieces(name: str, directory: Path = AGENTS_FIXTURES) -> list[bytes]:
    """The fixture's bytes as the upstream wrote them: one `data:` frame per write."""
    return capture_frames(directory / f"{name}.sse")


def agents_batches(pieces: list[bytes]) -> Iterator[list[Event]]:
    """The Agents adapter's per-read work: `SSEDecoder.feed`, then `add_chunk` per chunk."""
    decoder = SSEDecoder()
    index = 0
    for piece in pieces:
        batch: list[Event] = []
        for sse in decoder.feed(piece):
            add_chunk(batch, index, sse.data)
            index += 1
        yield batch


class _Replay:
    """Stands in for the upstream's aiohttp response: each `readany` returns the next piece."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.content = self
        self._pieces = iter(pieces)

    async def readany(self) -> bytes:
        return next(self._pieces, b"")

    def close(self) -> None:
        pass


def responses_batches(pieces: list[bytes]) -> Iterator[list[Event]]:
    """The Responses adapter's own reading (`OpenStream.read`, `TurnReads`), without an event loop.

    Each read returns at once, so the adapter's reads never suspend: each step is driven with
    `send(None)` and ends with the read's batch (StopIteration's value).
    """
    reads = TurnReads(OpenStream(_Replay(pieces)))  # type: ignore[arg-type]
    while True:
        step = reads.next_batch()
        try:
            step.send(None)
        except StopIteration as done:
            yield done.value
            continue
        except StopAsyncIteration:
            return
        step.close()
        raise RuntimeError("the Responses adapter waited on something but its replayed body")


def build_body(
    pieces: list[bytes],
    formatter_class: type[Formatter],
    batches: Batches = agents_batches,
) -> bytes:
    """Run the service's per-chunk path over `pieces`; return the response body it writes.

    The production functions, each piece one upstream read: the adapter's reading (`batches`:
    decode, parse and normalize each read's chunks into its batch), the pump's `Framer.frames`
    (the end's facts, `Formatter.format`) and one `encode` per batch.
    """
    end = EndBuilder()
    framer = Framer(formatter_class(), end)
    body = [encode(framer.frames(StartEvent(conversation_id=CONVERSATION_ID))).encode()]
    for batch in batches(pieces):
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
    batches: Batches = agents_batches,
):
    """Best round's CPU seconds for `repeat` runs, and the last body."""
    best = float("inf")
    body = b""
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(repeat):
            body = build_body(pieces, formatter_class, batches)
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
    """The Responses path (llama-stack 0.7.3 and OGX 1.5 captures): events per CPU second."""
    registry = load_registry()
    table = Table(
        "Frame building, Responses API (`responses-0.7.3` and `ogx-1.5` captures): "
        "events per CPU second",
        ["capture (events)", *[f"ours `{f}`" for f in formats]],
    )
    for label, directory, names in CAPTURE_SETS:
        for name in names:
            pieces = fixture_pieces(name, directory)
            repeat = max(1, budget // len(pieces))
            cells = [
                num(
                    len(pieces)
                    * repeat
                    / measure_ours(pieces, registry.get(fmt), repeat, rounds, responses_batches)[0]
                )
                for fmt in formats
            ]
            table.add(f"{label} {name} ({len(pieces)})", *cells)
    table.notes.append(
        "The Responses adapter's own reading (`OpenStream.read`: `SSEDecoder.feed`, "
        "`quick_chunk`, `exact_chunk`; `TurnReads`: `ResponsesNormalizer.normalize`), then "
        "`EndBuilder`, `Formatter.format` and `encode`, as above. OGX 1.5 re-splits text "
        "deltas (a word's space leads the next delta) and cites files (`file_citation` "
        "annotations)."
    )
    return table
