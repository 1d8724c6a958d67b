"""Benchmark 6, profile of the hottest path: the service process streaming long answers.

The service runs under cProfile (bench/serve_profiled.py, on after a warm-up stream) while the
fake upstream streams answers as fast as it can; the table is the top of the profile by own
time, per token.
The whole listing is saved as artifacts/bench/profile-service.txt, and the frame-building path
alone (bench/frames.py's loop over long.sse, `patternfly`) as profile-frames.txt.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import signal
import time
from pathlib import Path

from bench.client import run_streams
from bench.frames import build_body, fixture_pieces
from bench.procs import free_port, python, running, start_server
from bench.report import Context, Result, Table
from bench.targets import STREAMING_QUERY, service_env, start_upstream
from formatters.patternfly import PatternflyFormatter

TOP = 14


def _short(func: tuple[str, int, str]) -> str:
    file, line, name = func
    if file == "~":
        return name
    parts = Path(file).parts
    for root in ("service", "formatters", "aiohttp", "asyncio", "json", "pydantic", "structlog"):
        if root in parts:
            return f"{'/'.join(parts[parts.index(root) :])}:{line} {name}"
    return f"{Path(file).name}:{line} {name}"


def _table(stats: pstats.Stats, title: str, per: int, unit: str) -> Table:
    table = Table(title, ["function", "own time %", f"calls / {unit}", f"own µs / {unit}"])
    entries = {  # the event loop's wait for sockets is idle time, not work
        func: value
        for func, value in stats.stats.items()  # type: ignore[attr-defined]
        if func[2] != "<method 'poll' of 'select.epoll' objects>"
    }
    total = sum(v[2] for v in entries.values())
    top = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:TOP]
    for func, (_, calls, own, _, _) in top:
        table.add(
            f"`{_short(func)}`",
            f"{own / total * 100:.1f}",
            f"{calls / per:.2f}",
            f"{own / per * 1e6:.2f}",
        )
    return table


def _save(stats: pstats.Stats, path: Path) -> None:
    text = io.StringIO()
    stats.stream = text  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(60)
    path.write_text(text.getvalue())


def profile_service(ctx: Context, tokens: int, streams: int) -> pstats.Stats:
    """Profile `python -m service` while it streams `streams` answers of `tokens` tokens."""
    log_dir = ctx.out / "logs" / "profile"
    prof = ctx.out / "service.prof"
    prof.unlink(missing_ok=True)
    upstream = start_upstream(log_dir)
    with running(upstream):
        port = free_port()
        env = service_env(upstream)
        argv = [python(), "-m", "bench.serve_profiled", str(prof)]
        argv += ["--host", "127.0.0.1", "--port", str(port)]
        service = start_server("service-profiled", argv, port, env=env, log_dir=log_dir)
        with running(service):
            body = {"query": f"tokens={tokens}"}
            asyncio.run(run_streams(port, STREAMING_QUERY, body, count=1, concurrency=1))
            service.process.send_signal(signal.SIGUSR1)
            time.sleep(0.2)
            asyncio.run(run_streams(port, STREAMING_QUERY, body, count=streams, concurrency=2))
            service.process.send_signal(signal.SIGUSR2)
            deadline = time.monotonic() + 30
            while not prof.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)
    return pstats.Stats(str(prof))


def run(ctx: Context) -> Result:
    """Top of the service's profile per token, and of the frame-building path per chunk."""
    result = Result("profile")
    ctx.out.mkdir(parents=True, exist_ok=True)
    tokens, streams = ctx.pick((2_000, 2), (10_000, 4))
    stats = profile_service(ctx, tokens, streams)
    _save(stats, ctx.out / "profile-service.txt")
    table = _table(
        stats,
        f"Profile: the service streaming {streams} answers of {tokens:,} tokens (cProfile)",
        tokens * streams,
        "token",
    )
    table.notes.append(
        "cProfile inflates every Python call, so the µs are relative (the event loop's idle "
        "`epoll.poll` is left out); full listing: "
        "artifacts/bench/profile-service.txt."
    )
    result.tables.append(table)

    pieces = fixture_pieces("long")
    repeat = ctx.pick(20, 200)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        build_body(pieces, PatternflyFormatter)
    profiler.disable()
    frames = pstats.Stats(profiler)
    _save(frames, ctx.out / "profile-frames.txt")
    result.tables.append(
        _table(
            frames,
            "Profile: frame building, long.sse → `patternfly` (cProfile, own time)",
            repeat * len(pieces),
            "chunk",
        )
    )
    return result
