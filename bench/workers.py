"""The workers row: throughput of `python -m service --workers N` against one worker, same cores.

One fake upstream (Responses API, the default) and one redis-server (REDIS_URL, which N > 1
needs; the one-worker run gets it too, so only N differs). The client opens many streams at
once; the figures are wall-clock streams and tokens per second. No target: on a small machine
the client, the upstream and Redis share the cores the workers have.
"""

from __future__ import annotations

import asyncio
import os
import time

from bench.client import run_streams
from bench.e2e import DEFAULT_END
from bench.procs import running
from bench.report import Context, Headline, Result, Table, num, ratio
from bench.resume import redis_server
from bench.targets import STREAMING_QUERY, start_service, start_upstream


def cores() -> int:
    """The cores this process may run on (its CPU affinity), as the workers' share."""
    return len(os.sched_getaffinity(0))


def throughput(port: int, tokens: int, streams: int, concurrency: int) -> tuple[float, float]:
    """Streams per second and tokens per second of `streams` answers, `concurrency` at a time."""
    body = {"query": f"tokens={tokens}"}

    async def go() -> tuple[float, float]:
        await run_streams(port, STREAMING_QUERY, body, count=concurrency, concurrency=concurrency)
        started = time.perf_counter()
        stats = await run_streams(
            port, STREAMING_QUERY, body, count=streams, concurrency=concurrency
        )
        wall = time.perf_counter() - started
        for s in stats:
            if s.status != 200 or DEFAULT_END not in s.tail:
                raise RuntimeError(f"status {s.status}, ends {s.tail[-120:]!r}")
        return streams / wall, streams * tokens / wall

    return asyncio.run(go())


def run(ctx: Context) -> Result:
    """Streams/s and tokens/s with 1 and N workers (N: the cores it has, at least 2)."""
    result = Result("workers")
    log_dir = ctx.out / "logs" / "workers"
    have = cores()
    levels = sorted({1, max(2, have)})
    tokens, streams, concurrency = ctx.pick((200, 16, 8), (1_000, 256, 32))
    table = Table(
        f"Workers: throughput of 1 and N worker processes ({have} cores of "
        f"{os.cpu_count()} available)",
        ["workers", "streams/s", "tokens/s", "÷ 1 worker"],
    )
    upstream = start_upstream(log_dir)
    with running(upstream), redis_server(log_dir) as store:
        if store is None:
            table.notes.append("redis-server is not installed: N > 1 needs REDIS_URL; not run.")
            levels = [1]
        settings = {"REDIS_URL": f"redis://127.0.0.1:{store.port}/0"} if store else {}
        rates: dict[int, tuple[float, float]] = {}
        for n in levels:
            service = start_service(
                upstream,
                log_dir,
                name=f"service-{n}-workers",
                args=("--workers", str(n)),
                LLAMA_STACK_API="responses",
                **settings,
            )
            with running(service):
                time.sleep(ctx.pick(1.0, 3.0))  # every worker up, not just the first to listen
                rates[n] = throughput(service.port, tokens, streams, concurrency)
    for n, (per_stream, per_token) in rates.items():
        table.add(n, f"{per_stream:.1f}", num(per_token), ratio(per_token, rates[1][1]))
    table.notes.append(
        f"{streams} answers of {tokens:,} tokens, {concurrency} at a time, each on a new "
        "connection (the kernel spreads them over the workers: SO_REUSEPORT); the client, the "
        "fake upstream and redis-server run on the same cores."
    )
    if len(rates) > 1:
        n = max(rates)
        result.headlines.append(
            Headline(
                "workers",
                f"tokens/s, {n} workers ÷ 1 ({have} cores)",
                ratio(rates[n][1], rates[1][1]),
                "(no target)",
            )
        )
    result.tables.append(table)
    return result
