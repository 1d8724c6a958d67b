"""Benchmark 4, idle streams: N streams held open on a silent upstream, heartbeats every second.

The fake upstream answers each turn with its headers and one `step_start` chunk, then says
nothing (an agent thinking). The service (HEARTBEAT_INTERVAL=1) keeps every stream alive with a
heartbeat frame a second. Figures: the middle process's resident memory per open stream (RSS
with N open - RSS after a warm-up stream, ÷ N) and its CPU time per heartbeat over a window of
a few seconds (CPU ÷ heartbeat frames the clients received). Peers: the bare relay (the floor:
holds the two connections, writes nothing) and lightspeed-stack 0.1.3 (no heartbeats; its
llama-stack-client pool allows 100 upstream connections, so it is measured at N ≤ 100).
Streams are opened in batches and the whole run is bounded in time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from bench.client import Stream, open_stream
from bench.procs import Server, raise_nofile, running
from bench.report import Context, Headline, Result, Table, ratio
from bench.targets import (
    STREAMING_QUERY,
    lightspeed_missing,
    start_lightspeed,
    start_relay,
    start_service,
    start_upstream,
)

TARGET_STREAMS = 10_000
TARGET_KIB = 40.0
LIGHTSPEED_POOL = 100
SILENCE = 900  # seconds the upstream stays silent: longer than any run; clients hang up first
OPEN_TIMEOUT = 180.0
BATCH = 250
MARKERS = {"service": b'"event": "heartbeat"'}
FD_SPARE = 150  # descriptors a middle process uses besides its streams' two sockets


async def hold(
    server: Server,
    count: int,
    window: float,
    fields: Mapping[str, object] | None = None,
    open_timeout: float = OPEN_TIMEOUT,
) -> dict[str, float]:
    """Open `count` idle streams, measure memory and CPU over `window` seconds, hang up.

    `fields` are more fields of the request body, beside its `query`; every stream must have
    its first byte within `open_timeout` seconds of the first.
    """
    body = {"query": f"silent={SILENCE}", **(fields or {})}
    marker = MARKERS.get(server.name)
    warm = await open_stream(server.port, STREAMING_QUERY, body, marker=marker)
    await asyncio.wait_for(warm.first_body(), 30)
    await asyncio.sleep(0.3)
    base_rss = server.rss()
    streams: list[Stream] = [warm]
    started = time.monotonic()
    try:
        while len(streams) - 1 < count:
            size = min(BATCH, count - (len(streams) - 1))
            batch = await asyncio.gather(
                *(
                    open_stream(server.port, STREAMING_QUERY, body, marker=marker)
                    for _ in range(size)
                )
            )
            streams.extend(batch)
            left = open_timeout - (time.monotonic() - started)
            await asyncio.wait_for(asyncio.gather(*(s.first_body() for s in batch)), max(left, 1))
        opened = time.monotonic() - started
        failed = [s for s in streams if s.stats.status != 200 or s.stats.ended_at is not None]
        if failed:
            raise RuntimeError(f"{server.name}: {len(failed)} streams failed ({failed[0].stats})")
        await asyncio.sleep(1.2)
        rss = server.rss()
        beats, cpu = sum(s.stats.markers for s in streams), server.cpu()
        await asyncio.sleep(window)
        beats, cpu = sum(s.stats.markers for s in streams) - beats, server.cpu() - cpu
        alive = sum(1 for s in streams if s.stats.ended_at is None)
        return {
            "streams": count,
            "alive": alive - 1,
            "open_seconds": opened,
            "rss_per_stream": (rss - base_rss) / count,
            "rss": rss,
            "cpu": cpu,
            "window": window,
            "heartbeats": beats,
        }
    finally:
        for stream in streams:
            stream.close()
        await asyncio.sleep(0.5)


def run(ctx: Context) -> Result:
    """RSS per idle stream and CPU per heartbeat, ours vs the relay and lightspeed-stack."""
    result = Result("idle")
    log_dir = ctx.out / "logs" / "idle"
    levels = ctx.pick([200], [1_000, 5_000, TARGET_STREAMS])
    window = ctx.pick(1.0, 5.0)
    wanted = 2 * max(levels) + 1_000
    soft, hard = raise_nofile(wanted)
    # each stream holds 2 descriptors in the middle process (client + upstream connections)
    fit = (soft - FD_SPARE) // 2
    capped = [min(n, fit) for n in levels]
    levels = sorted(set(capped))
    table = Table(
        "Idle streams: heartbeats every second on a silent upstream",
        [
            "middle process",
            "streams",
            "opened in s",
            "RSS MiB",
            "KiB / stream",
            "CPU µs / heartbeat",
            "CPU ms / stream-minute",
        ],
    )
    rows: dict[str, dict[int, dict[str, float]]] = {}
    upstream = start_upstream(log_dir)
    with running(upstream):
        candidates = [("service", lambda: start_service(upstream, log_dir, HEARTBEAT_INTERVAL="1"))]
        candidates.append(("relay", lambda: start_relay(upstream, log_dir)))
        missing = lightspeed_missing()
        if not missing:
            candidates.append(("lightspeed", lambda: start_lightspeed(upstream, log_dir)))
        for name, start in candidates:
            counts = (
                levels
                if name != "lightspeed"
                else sorted({min(n, LIGHTSPEED_POOL) for n in levels})
            )
            for count in counts:
                server = start()  # a fresh process per level: RSS does not carry over
                with running(server):
                    r = asyncio.run(hold(server, count, window))
                rows.setdefault(name, {})[count] = r
                beat = f"{r['cpu'] / r['heartbeats'] * 1e6:.1f}" if r["heartbeats"] else "none sent"
                table.add(
                    name,
                    f"{count:,}",
                    f"{r['open_seconds']:.1f}",
                    f"{r['rss'] / 2**20:.0f}",
                    f"{r['rss_per_stream'] / 1024:.1f}",
                    beat,
                    f"{r['cpu'] / r['window'] / count * 60 * 1000:.2f}",
                )
    ours = rows["service"][max(levels)]
    kib = ours["rss_per_stream"] / 1024
    result.headlines.append(
        Headline(
            "4 idle",
            f"RSS per stream, ours at {max(levels):,} streams in one process",
            f"{kib:.1f} KiB",
            f"{TARGET_STREAMS:,} streams, ≤ {TARGET_KIB:g} KiB",
            max(levels) >= TARGET_STREAMS and ours["alive"] == max(levels) and kib <= TARGET_KIB,
        )
    )
    floor = rows["relay"][max(levels)]
    result.headlines.append(
        Headline(
            "4 idle",
            "RSS per stream, ours ÷ bare relay",
            ratio(ours["rss_per_stream"], floor["rss_per_stream"]),
            "(no target)",
        )
    )
    if "lightspeed" in rows:
        n = max(rows["lightspeed"])
        peer = rows["lightspeed"][n]
        mine = rows["service"].get(n) or ours
        result.headlines.append(
            Headline(
                "4 idle",
                f"RSS per stream, ours ÷ lightspeed-stack (at {n} streams for lightspeed)",
                ratio(mine["rss_per_stream"], peer["rss_per_stream"]),
                "(no target)",
            )
        )
    else:
        table.notes.append(f"lightspeed-stack not run: {missing}")
    table.notes.append(
        f"RLIMIT_NOFILE of the benchmark process and its children: {soft:,} (hard {hard:,}); "
        f"the benchmark asked for {wanted:,} (2 descriptors a stream in the middle process). "
        + (
            f"The hard limit cannot be raised here, so the largest level is {max(levels):,} "
            f"streams, not {TARGET_STREAMS:,}."
            if max(levels) < TARGET_STREAMS and not ctx.quick
            else ""
        )
    )
    table.notes.append(
        "KiB / stream: (RSS with the streams open - RSS after one warm-up stream) ÷ streams. "
        f"lightspeed-stack is measured up to {LIGHTSPEED_POOL} streams: it writes its `start` "
        "frame before asking llama-stack, but llama-stack-client 0.2.16's httpx pool allows "
        "100 upstream connections and each turn holds one for its whole stream, so a 101st "
        "stream waits for a free connection. It sends no heartbeats, and a turn silent for "
        "60 s is cut by the client's read timeout (httpx.ReadTimeout: the stream aborts, seen "
        "with 150 streams held 66 s)."
    )
    table.notes.append("The relay writes nothing while the upstream is silent: no heartbeats.")
    result.tables.append(table)
    return result
