"""Benchmark 2, end to end: CPU per token of a long answer streamed as fast as the upstream can.

Three processes stand between the same fake upstream (bench/upstream.py) and the same client
(bench/client.py): (a) our service (`python -m service`, Agents API, `patternfly` unless said),
(b) the bare aiohttp relay (bench/relay.py), the floor, (c) lightspeed-stack 0.1.3 under
uvicorn (bench/lightspeed_server.py). The figure is the CPU time (user + system, from /proc)
of that middle process only, over the whole batch of streams, per token of answer text.
The Responses API (the default upstream) and lightspeed-stack 0.7.1 are bench/peers.py's.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from bench.client import run_streams
from bench.frames import BUILTIN_FORMATS
from bench.procs import Server, running
from bench.report import Context, Headline, Result, Table, num, ratio
from bench.targets import (
    STREAMING_QUERY,
    lightspeed_missing,
    start_lightspeed,
    start_relay,
    start_service,
    start_upstream,
)

TARGET = 1.15
PACE = 0.002
"""Seconds between two upstream writes of a paced answer: one token per read, as a model's."""
END_MARKERS = {
    "relay": b'"output_attachments":[]',
    "relay-responses": b'"type":"response.completed"',
    "raw": b"event: end",
    "openai": b"[DONE]",
    "responses": b'"reasoning_tokens":0},"total_tokens":',  # the terminal's usage, in its tail
    "vercel": b"[DONE]",
    "anthropic": b"event: message_stop",
    "ag-ui": b'"type":"RUN_FINISHED"',
    "a2a": b'"state":"TASK_STATE_COMPLETED"',
}
DEFAULT_END = b'"event": "end"'


@dataclass
class Run:
    """One batch of streams through one middle process."""

    tokens: int
    cpu: float
    wall: float

    @property
    def cpu_per_10k(self) -> float:
        return self.cpu / self.tokens * 10_000

    @property
    def tokens_per_cpu_second(self) -> float:
        return self.tokens / self.cpu if self.cpu else float("inf")


class StreamFailed(RuntimeError):
    """A stream did not complete."""


def measure(
    server: Server,
    tokens: int,
    streams: int,
    concurrency: int,
    query: str = "",
    end: bytes = b"",
    pace: float = 0.0,
    fields: Mapping[str, object] | None = None,
) -> Run:
    """Stream `streams` answers of `tokens` tokens through `server`; its CPU time for them.

    `fields` are more fields of the request body, beside its `query`.
    """
    body = {"query": f"tokens={tokens}" + (f" pace={pace:g}" if pace else ""), **(fields or {})}
    path = STREAMING_QUERY + query
    end = end or END_MARKERS.get(server.name, DEFAULT_END)

    async def go() -> Run:
        await run_streams(server.port, path, body, count=1, concurrency=1)  # warm-up
        cpu, wall = server.cpu(), time.perf_counter()
        stats = await run_streams(server.port, path, body, count=streams, concurrency=concurrency)
        cpu, wall = server.cpu() - cpu, time.perf_counter() - wall
        for s in stats:
            if s.status != 200 or end not in s.tail:
                raise StreamFailed(f"{server.name}: status {s.status}, ends {s.tail[-120:]!r}")
        return Run(tokens * streams, cpu, wall)

    return asyncio.run(go())


def run(ctx: Context) -> Result:
    """CPU per 10,000 tokens through ours, the relay and lightspeed-stack, and how it scales."""
    result = Result("e2e")
    log_dir = ctx.out / "logs" / "e2e"
    tokens, streams, concurrency = ctx.pick((2_000, 4, 2), (10_000, 16, 4))
    upstream = start_upstream(log_dir)
    with running(upstream):
        middles = [start_service(upstream, log_dir), start_relay(upstream, log_dir)]
        missing = lightspeed_missing()
        if not missing:
            middles.append(start_lightspeed(upstream, log_dir))
        with running(*middles):
            service = middles[0]
            lightspeed = middles[2] if len(middles) > 2 else None
            runs = {m.name: measure(m, tokens, streams, concurrency) for m in middles}
            formats = ctx.pick((), [f for f in BUILTIN_FORMATS if f != "patternfly"])
            for fmt in formats:
                runs[f"service ({fmt})"] = measure(
                    service,
                    tokens,
                    streams,
                    concurrency,
                    f"?format={fmt}",
                    END_MARKERS.get(fmt, b""),
                )
            table = Table(
                f"End to end: {streams} answers of {tokens:,} tokens, {concurrency} at a time",
                [
                    "middle process",
                    "CPU s / 10k tokens",
                    "tokens / CPU s",
                    "wall tokens/s",
                    "vs relay",
                ],
            )
            names = {
                "service": "ours (`patternfly`)",
                "relay": "bare aiohttp relay (floor)",
                "lightspeed": "lightspeed-stack 0.1.3",
            }
            floor = runs["relay"]
            for key, r in runs.items():
                label = names.get(key, key.replace("service", "ours"))
                table.add(
                    label,
                    f"{r.cpu_per_10k:.3f}",
                    num(r.tokens_per_cpu_second),
                    num(r.tokens / r.wall),
                    ratio(r.cpu_per_10k, floor.cpu_per_10k),
                )
            ours = runs["service"]
            floor_cpu = floor.cpu_per_10k
            over_floor = ours.cpu_per_10k / floor_cpu if floor_cpu else math.inf
            result.headlines.append(
                Headline(
                    "2 end to end",
                    "CPU per token, ours ÷ bare relay",
                    ratio(ours.cpu_per_10k, floor_cpu),
                    f"≤ {TARGET}x",
                    over_floor <= TARGET,
                )
            )
            if lightspeed is not None:
                peer = runs["lightspeed"]
                result.headlines.append(
                    Headline(
                        "2 end to end",
                        "CPU per token, ours ÷ lightspeed-stack",
                        f"{ours.cpu_per_10k / peer.cpu_per_10k:.2f}x "
                        f"({peer.cpu_per_10k / ours.cpu_per_10k:.1f}x less)",
                        "(no target)",
                    )
                )
            else:
                table.notes.append(f"lightspeed-stack not run: {missing}")
            table.notes.append(
                "CPU: user + system seconds of the middle process alone (/proc/PID/stat) over "
                "the batch, warm-up stream excluded; tokens/CPU s is per core (each middle is "
                "one event loop)."
            )
            result.tables.append(table)
            result.tables.append(scaling(ctx, middles))
    return result


def scaling(ctx: Context, middles: list[Server]) -> Table:
    """CPU per 10k tokens as the answer length and the concurrency grow."""
    points = ctx.pick(
        [(100, 4, 4), (1_000, 4, 4)],
        [(100, 64, 8), (1_000, 32, 8), (10_000, 4, 4), (1_000, 8, 1), (1_000, 64, 64)],
    )
    table = Table(
        "Scaling, end to end: CPU s per 10k tokens by answer length and concurrency",
        ["tokens x streams (at once)", *[m.name for m in middles], "ours ÷ relay"],
    )
    for tokens, streams, concurrency in points:
        cells = {m.name: measure(m, tokens, streams, concurrency) for m in middles}
        table.add(
            f"{tokens:,} x {streams} ({concurrency})",
            *[f"{cells[m.name].cpu_per_10k:.3f}" for m in middles],
            ratio(cells["service"].cpu_per_10k, cells["relay"].cpu_per_10k),
        )
    table.notes.append(
        "Short answers carry the per-stream set-up (agent session, turn request, start and "
        "end frames) over few tokens; lightspeed-stack also creates an agent per new conversation."
    )
    return table
