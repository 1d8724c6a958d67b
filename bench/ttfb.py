"""Benchmark 3, time to first byte: what the service adds over asking the upstream directly.

On each API, the Responses API (the default) and the Agents API: direct, the client POSTs the
turn to the fake upstream itself and times its first body byte (the first event). Through the
service: the same turn as `POST /v1/streaming_query` continuing a conversation the service
already knows (so it makes exactly the one turn request the direct client makes), timed to the
first body byte (the `start` frame: on the Agents API written once the upstream's response
headers are in, on the Responses API once its first event is). Streams are short (3 tokens);
at concurrency C, C streams are opened at once, round after round. Added = p50 (p99) through
the service - p50 (p99) direct.
"""

from __future__ import annotations

import asyncio
import re

from bench.client import Stream, StreamStats, fetch, open_stream, percentile
from bench.procs import Server, running
from bench.report import Context, Headline, Result, Table, ratio
from bench.targets import STREAMING_QUERY, start_relay, start_service, start_upstream
from bench.upstream import MODEL

TARGET_MS = 2.0
BUSY_RATIO = 2.0
"""Added p99 with 200 busy streams ÷ added p99 with none: at most this."""
_CONVERSATION = re.compile(rb'"conversation_id": "([^"]+)"')
TURN = "/v1/agents/agent-1/session/{session}/turn"
RESPONSES = "/v1/responses"
APIS = ("responses", "agents")
API_NAMES = {"responses": "Responses API (the default)", "agents": "Agents API"}
BACKGROUND_TOKENS = 20_000
BACKGROUND_PACE = 0.02


async def _round(port: int, requests: list[tuple[str, dict]]) -> list[StreamStats]:
    streams = await asyncio.gather(*(open_stream(port, path, body) for path, body in requests))
    return list(await asyncio.gather(*(s.done() for s in streams)))


async def _conversations(service: Server, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        stats = await fetch(service.port, STREAMING_QUERY, {"query": "tokens=3"}, keep=200)
        found = _CONVERSATION.search(stats.head_body)
        if found is None:
            raise RuntimeError(f"no conversation id in {bytes(stats.head_body)!r}")
        ids.append(found.group(1).decode())
    return ids


async def _background(service: Server, count: int) -> list[Stream]:
    """Open `count` streams through `service` at a model's pace (a token every 20 ms)."""
    body = {"query": f"tokens={BACKGROUND_TOKENS} pace={BACKGROUND_PACE}"}
    streams = []
    for start in range(0, count, 50):
        batch = await asyncio.gather(
            *(
                open_stream(service.port, STREAMING_QUERY, body)
                for _ in range(start, min(count, start + 50))
            )
        )
        await asyncio.gather(*(s.first_body() for s in batch))
        streams.extend(batch)
    for stream in streams:
        if stream.stats.status != 200:
            raise RuntimeError(f"background stream: status {stream.stats.status}")
    return streams


def _direct(api: str, conversations: list[str]) -> list[tuple[str, dict]]:
    """The turn requests the service makes for `conversations`, made by the client itself."""
    if api == "responses":
        return [
            (RESPONSES, {"input": "tokens=3", "model": MODEL, "stream": True, "conversation": c})
            for c in conversations
        ]
    turn = {"messages": [{"role": "user", "content": "tokens=3"}], "stream": True}
    return [(TURN.format(session=f"direct-{i}"), turn) for i in range(len(conversations))]


async def _probe(
    api: str, service: Server, upstream: Server, background: int, probes: int, burst: bool
):
    """TTFB samples direct and through the service, with `background` streams running.

    Through the relay (bench/relay.py, the floor) the request names no conversation: the relay
    makes the same one turn request for any.
    """
    width = background if burst else 1
    relay = service.name.startswith("relay")
    if relay:
        conversations = [f"conv_{i:048x}" for i in range(width)]
    else:
        conversations = await _conversations(service, width)
    streams = [] if burst else await _background(service, background)
    direct = _direct(api, conversations)
    through = [
        (
            STREAMING_QUERY,
            {"query": "tokens=3"} if relay else {"query": "tokens=3", "conversation_id": c},
        )
        for c in conversations
    ]
    samples: dict[str, list[float]] = {"direct": [], "service": []}
    try:
        await asyncio.sleep(0.2)
        for _ in range(probes):  # interleaved, so drift hits both alike
            for name, port, requests in (
                ("direct", upstream.port, direct),
                ("service", service.port, through),
            ):
                for stats in await _round(port, requests):
                    if stats.status != 200 or stats.ttfb is None:
                        raise RuntimeError(f"{name}: status {stats.status}, {stats.error}")
                    samples[name].append(stats.ttfb * 1000)
                await asyncio.sleep(0.005)
        if any(s.stats.ended_at is not None for s in streams):
            raise RuntimeError("a background stream ended early")
    finally:
        for stream in streams:
            stream.close()
    return samples


def run(ctx: Context) -> Result:
    """p50/p99 TTFB direct and through the service at 1 and 200 concurrent streams, per API."""
    result = Result("ttfb")
    upstream = start_upstream(ctx.out / "logs" / "ttfb")
    with running(upstream):
        for api in APIS:
            result.tables.append(_api(ctx, api, upstream, result))
    return result


def _api(ctx: Context, api: str, upstream: Server, result: Result) -> Table:
    """The TTFB table of one API, the service on it (and on Responses the relay), headlines."""
    log_dir = ctx.out / "logs" / "ttfb"
    table = Table(
        f"Time to first byte (ms), {API_NAMES[api]}: direct to the upstream vs through the middle",
        [
            "middle",
            "streams open",
            "samples",
            "direct p50",
            "direct p99",
            "middle p50",
            "middle p99",
            "added p50",
            "added p99",
        ],
    )
    service = start_service(upstream, log_dir, name=f"service-{api}", LLAMA_STACK_API=api)
    with running(service):
        _levels(ctx, api, service, upstream, result, table, f"{api}: ", True)
    if api == "responses":
        relay = start_relay(upstream, log_dir, api=api, name="relay-ttfb")
        with running(relay):
            _levels(ctx, api, relay, upstream, result, table, "relay (floor) on responses: ", None)
    table.notes.append(
        "`1 + 200 busy`: one new stream at a time while 200 others stream through the middle "
        "at a model's pace (a token every 20 ms each: 10,000 tokens/s in all). `200 started at "
        "once`: 200 new streams arrive in the same instant; the service sets them up one after "
        "the other on its one event loop, so the last waits for the 199 before it."
    )
    table.notes.append(
        "First body byte, timed by the client from the moment its connection was up and the "
        "request written; each request on a new connection, as a browser opens a stream."
    )
    table.notes.append(
        "The relay (bench/relay.py, the floor) makes the same one turn request per stream and "
        "copies the upstream's events; its rows have no target and say what the machine itself "
        "adds with the same load (the client, the upstream and the middle share its cores)."
    )
    return table


def _levels(
    ctx: Context,
    api: str,
    middle: Server,
    upstream: Server,
    result: Result,
    table: Table,
    prefix: str,
    judged: bool | None,
) -> None:
    """Measure the three levels through `middle`; its rows and headlines (judged or not)."""
    probes = ctx.pick(20, 300)
    levels = [(0, probes, False), (200, probes, False), (200, ctx.pick(1, 3), True)]
    added: dict[str, float] = {}
    for background, count, burst in levels:
        samples = asyncio.run(_probe(api, middle, upstream, background, count, burst))
        d, s = samples["direct"], samples["service"]
        p50 = percentile(s, 0.5) - percentile(d, 0.5)
        p99 = percentile(s, 0.99) - percentile(d, 0.99)
        label = f"{background} started at once" if burst else f"1 + {background} busy"
        added[label] = p99
        table.add(
            middle.name,
            label,
            len(s),
            f"{percentile(d, 0.5):.2f}",
            f"{percentile(d, 0.99):.2f}",
            f"{percentile(s, 0.5):.2f}",
            f"{percentile(s, 0.99):.2f}",
            f"{p50:.2f}",
            f"{p99:.2f}",
        )
        if burst:
            result.headlines.append(
                Headline(
                    "3 TTFB",
                    f"{prefix}added p99 ÷ the upstream's own p99, {background} at once",
                    f"{p99:.2f} ms ÷ {percentile(d, 0.99):.2f} ms",
                    "≤ 1x" if judged else "(no target)",
                    p99 <= percentile(d, 0.99) if judged else None,
                )
            )
        elif judged:
            result.headlines.append(
                Headline(
                    "3 TTFB",
                    f"{prefix}added by the service at p99 (p50), {background + 1} concurrent",
                    f"{p99:.2f} ms ({p50:.2f} ms)",
                    f"≤ {TARGET_MS:g} ms",
                    p99 <= TARGET_MS,
                )
            )
    one, busy = added["1 + 0 busy"], added["1 + 200 busy"]
    result.headlines.append(
        Headline(
            "3 TTFB",
            f"{prefix}added p99 with 200 busy streams ÷ with none",
            ratio(busy, one),
            f"≤ {BUSY_RATIO:g}x" if judged else "(no target)",
            one > 0 and busy / one <= BUSY_RATIO if judged else None,
        )
    )
