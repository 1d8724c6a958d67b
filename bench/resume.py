"""What resumable streams cost: CPU per frame and per idle stream, resume off vs on (memory, Redis).

Three `python -m service` processes in front of the same fake upstream (bench/upstream.py):
RESUME_WINDOW unset (off), RESUME_WINDOW=60 with the in-process store, and RESUME_WINDOW=60
with REDIS_URL naming a redis-server started here on a loopback port. Per frame: answers of N
tokens streamed as fast as the upstream can, the service's CPU time per 10,000 frames (and the
redis-server's, separately). Per idle stream: N streams on a silent upstream with a heartbeat a
second, the service's RSS per stream and CPU per stream-minute (and Redis's CPU and memory).
Every figure is also given as a ratio to resume off. Run alone: `python -m bench --only resume`.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from bench.client import Stream, open_stream, run_streams
from bench.procs import Server, cpu_seconds, free_port, raise_nofile, running, start_server
from bench.report import Context, Headline, Result, Table, num, ratio
from bench.targets import STREAMING_QUERY, start_service, start_upstream

WINDOW = "60"
SILENCE = 900
HEARTBEAT = b'"event": "heartbeat"'
END = b'"event": "end"'


@dataclass
class Frames:
    """One batch of long answers through one service process."""

    frames: int
    cpu: float
    redis_cpu: float
    wall: float

    def per_10k(self, cpu: float) -> float:
        return cpu / self.frames * 10_000


@dataclass
class Idle:
    """Idle streams held open through one service process."""

    streams: int
    rss_per_stream: float
    cpu: float
    redis_cpu: float
    redis_memory_per_stream: float
    window: float
    heartbeats: int

    def per_stream_minute(self, cpu: float) -> float:
        return cpu / self.window / self.streams * 60 * 1000


@contextmanager
def redis_server(log_dir: Path) -> Iterator[Server | None]:
    """A redis-server on a free loopback port (no persistence), or None when not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--dir", directory, "--maxclients", "20000"]
        server = start_server("redis", argv, port, log_dir=log_dir)
        with running(server):
            yield server


def redis_memory(server: Server) -> int:
    """Redis's own count of the bytes it uses."""
    client = redis.Redis(host="127.0.0.1", port=server.port)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


def measure_frames(
    service: Server, store: Server | None, tokens: int, streams: int, concurrency: int
) -> Frames:
    """Stream `streams` answers of `tokens` tokens; the service's (and Redis's) CPU for them."""
    body = {"query": f"tokens={tokens}"}

    async def go() -> Frames:
        await run_streams(service.port, STREAMING_QUERY, body, count=1, concurrency=1)
        cpu, wall = service.cpu(), time.perf_counter()
        store_cpu = cpu_seconds(store.pid) if store else 0.0
        stats = await run_streams(
            service.port, STREAMING_QUERY, body, count=streams, concurrency=concurrency
        )
        wall = time.perf_counter() - wall
        cpu = service.cpu() - cpu
        store_cpu = (cpu_seconds(store.pid) - store_cpu) if store else 0.0
        for s in stats:
            if s.status != 200 or END not in s.tail:
                raise RuntimeError(f"{service.name}: status {s.status}, ends {s.tail[-120:]!r}")
        # start, one token frame per token, the step's and the turn's frames, end
        return Frames(streams * (tokens + 4), cpu, store_cpu, wall)

    return asyncio.run(go())


def measure_idle(service: Server, store: Server | None, count: int, window: float) -> Idle:
    """Hold `count` idle streams; RSS per stream and CPU over `window` seconds."""
    body = {"query": f"silent={SILENCE}"}

    async def go() -> Idle:
        warm = await open_stream(service.port, STREAMING_QUERY, body, marker=HEARTBEAT)
        await asyncio.wait_for(warm.first_body(), 30)
        await asyncio.sleep(0.3)
        base_rss = service.rss()
        base_redis = redis_memory(store) if store else 0
        streams: list[Stream] = [warm]
        try:
            for start in range(0, count, 250):
                batch = await asyncio.gather(
                    *(
                        open_stream(service.port, STREAMING_QUERY, body, marker=HEARTBEAT)
                        for _ in range(min(250, count - start))
                    )
                )
                streams += batch
                await asyncio.wait_for(asyncio.gather(*(s.first_body() for s in batch)), 120)
            await asyncio.sleep(1.5)
            failed = [s for s in streams if s.stats.status != 200 or s.stats.ended_at]
            if failed:
                raise RuntimeError(f"{service.name}: {len(failed)} streams failed")
            rss = service.rss()
            used = redis_memory(store) if store else 0
            beats, cpu = sum(s.stats.markers for s in streams), service.cpu()
            store_cpu = cpu_seconds(store.pid) if store else 0.0
            await asyncio.sleep(window)
            beats = sum(s.stats.markers for s in streams) - beats
            cpu = service.cpu() - cpu
            store_cpu = (cpu_seconds(store.pid) - store_cpu) if store else 0.0
            return Idle(
                streams=count,
                rss_per_stream=(rss - base_rss) / count,
                cpu=cpu,
                redis_cpu=store_cpu,
                redis_memory_per_stream=(used - base_redis) / count,
                window=window,
                heartbeats=beats,
            )
        finally:
            for stream in streams:
                stream.close()
            await asyncio.sleep(0.5)

    return asyncio.run(go())


def run(ctx: Context) -> Result:
    """CPU per frame and per idle stream with resume off, in memory and in Redis."""
    result = Result("resume")
    log_dir = ctx.out / "logs" / "resume"
    tokens, streams, concurrency = ctx.pick((1_000, 4, 2), (5_000, 16, 4))
    idle_count, window = ctx.pick((100, 2.0), (1_000, 10.0))
    raise_nofile(4 * idle_count + 1_000)
    frames: dict[str, Frames] = {}
    idle: dict[str, Idle] = {}
    upstream = start_upstream(log_dir)
    with running(upstream), redis_server(log_dir) as store:
        setups: list[tuple[str, dict[str, str], Server | None]] = [
            ("off", {}, None),
            ("memory", {"RESUME_WINDOW": WINDOW}, None),
        ]
        if store is not None:
            setups.append(("redis", {"RESUME_WINDOW": WINDOW}, store))
        for name, settings, used_store in setups:
            env = {"HEARTBEAT_INTERVAL": "1", **settings}
            if used_store is not None:
                env["REDIS_URL"] = f"redis://127.0.0.1:{used_store.port}/0"
            service = start_service(upstream, log_dir, name=f"service-{name}", **env)
            with running(service):
                frames[name] = measure_frames(service, used_store, tokens, streams, concurrency)
            service = start_service(upstream, log_dir, name=f"service-{name}-idle", **env)
            with running(service):
                idle[name] = measure_idle(service, used_store, idle_count, window)
    off_frame = frames["off"].per_10k(frames["off"].cpu)
    per_frame = Table(
        f"Resume, per frame: {streams} answers of {tokens:,} tokens, {concurrency} at a time",
        ["resume", "service CPU s / 10k frames", "÷ off", "redis-server CPU s / 10k", "wall s"],
    )
    for name, r in frames.items():
        mine = r.per_10k(r.cpu)
        per_frame.add(
            name,
            f"{mine:.3f}",
            ratio(mine, off_frame),
            f"{r.per_10k(r.redis_cpu):.3f}" if name == "redis" else "",
            f"{r.wall:.2f}",
        )
    off_idle = idle["off"]
    off_minute = off_idle.per_stream_minute(off_idle.cpu)
    per_idle = Table(
        f"Resume, per idle stream: {idle_count:,} streams on a silent upstream, heartbeat 1 s",
        [
            "resume",
            "service KiB / stream",
            "÷ off",
            "service CPU ms / stream-minute",
            "÷ off",
            "redis CPU ms / stream-minute",
            "redis KiB / stream",
        ],
    )
    for name, r in idle.items():
        minute = r.per_stream_minute(r.cpu)
        per_idle.add(
            name,
            f"{r.rss_per_stream / 1024:.1f}",
            ratio(r.rss_per_stream, off_idle.rss_per_stream),
            f"{minute:.2f}",
            ratio(minute, off_minute),
            f"{r.per_stream_minute(r.redis_cpu):.2f}" if name == "redis" else "",
            f"{r.redis_memory_per_stream / 1024:.1f}" if name == "redis" else "",
        )
    per_frame.notes.append(
        f"RESUME_WINDOW={WINDOW}; frames per answer: tokens + 4 (start, step and turn frames, "
        "end). With resume on, each frame is also stamped with its `id:` line, stored, and "
        "read back by the connection's follower; in Redis, one script call per upstream read "
        "(an XADD per frame and the epilogue, which the producer computes once per read by "
        "copying its formatter) and one XREAD per wake of the follower."
    )
    per_idle.notes.append(
        "KiB / stream: (RSS with the streams open - RSS after one warm-up stream) ÷ streams; "
        "redis KiB / stream from Redis's `used_memory`. With Redis, each idle stream also has "
        "its liveness key renewed twice a second (one script call a tick for all the turns of "
        "a process) and its follower waiting in XREAD BLOCK on its own Redis connection."
    )
    if store is None:
        per_frame.notes.append("redis-server is not installed: the Redis rows are missing.")
    result.tables += [per_frame, per_idle]
    for name in ("memory", "redis"):
        if name in frames:
            r, i = frames[name], idle[name]
            result.headlines.append(
                Headline(
                    "resume",
                    f"service CPU per frame, resume in {name} ÷ off",
                    ratio(r.per_10k(r.cpu), off_frame),
                    "(no target)",
                )
            )
            result.headlines.append(
                Headline(
                    "resume",
                    f"service CPU per idle stream-minute, resume in {name} ÷ off",
                    ratio(i.per_stream_minute(i.cpu), off_minute),
                    "(no target)",
                )
            )
    result.tables[0].notes.append(f"figures use {num(frames['off'].frames)} frames per setup")
    return result
