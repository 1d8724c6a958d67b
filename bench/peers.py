"""The peers of today on the Responses API (the default): ours, the relay, lightspeed-stack 0.7.1.

One fake upstream (bench/upstream.py, reporting OGX 1.2.5, the version lightspeed-stack 0.7.1
pins) serves three middles in the same run: our service (`LLAMA_STACK_API=responses`), the
bare aiohttp relay (`--api responses`, the floor) and lightspeed-stack 0.7.1's whole app
(tests/oracle/lightspeed_app.py in the 0.7.1 oracle's venv). Figures: the middle process's CPU
per token (as fast as the upstream writes, and at a model's pace: one token a read), ours beside
the relay's own ratio to lightspeed-stack; the time to the first body byte and to the first
token's text (fast and paced), less the same times straight from the upstream; and the resident
memory per idle stream (a silent upstream).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field

from bench.client import open_stream, percentile
from bench.e2e import END_MARKERS, PACE, Run, measure
from bench.frames import BUILTIN_FORMATS
from bench.idle import hold
from bench.procs import Server, running
from bench.report import Context, Headline, Result, Table, num, ratio
from bench.targets import (
    OGX_VERSION,
    STREAMING_QUERY,
    lightspeed_07_missing,
    start_lightspeed_07,
    start_relay,
    start_service,
    start_upstream,
)
from bench.upstream import MODEL, token_text
from service.settings import Settings

HEARTBEAT_DEFAULT = Settings.model_fields["heartbeat_interval"].default

TARGET = 1.15
PACED_TARGET = 1.5
FORMAT_TARGET = 1.5
PEER = "lightspeed-0.7.1"
PEER_FORMAT = "lightspeed-0.7"
"""Our format that writes lightspeed-stack 0.7.1's dialect: the one compared with it."""
TTFB_PACE = 0.02
"""Seconds between two upstream writes in the paced TTFB samples (50 tokens/s, a model's)."""
FIRST_TOKEN = token_text(0).encode()
FIELDS = {"generate_topic_summary": False}
"""More of every request's body: lightspeed-stack 0.7.1 asks the model for a topic otherwise."""
SERVICE, RELAY = "service-responses", "relay-responses"
LABELS = {SERVICE: "ours", RELAY: "bare aiohttp relay (floor)", PEER: "lightspeed-stack 0.7.1"}


@dataclass
class Middles:
    """The processes in front of the one upstream; `peer` is None without its venv."""

    upstream: Server
    service: Server
    relay: Server
    peer: Server | None

    def all(self) -> list[Server]:
        return [m for m in (self.service, self.relay, self.peer) if m is not None]


def run(ctx: Context) -> Result:
    """CPU per token, TTFB and idle memory: ours, the relay and lightspeed-stack 0.7.1.

    Each middle is started once and holds its idle streams first, while its process is fresh;
    the larger idle level (full run) starts fresh processes of ours and the relay.
    """
    result = Result("peers")
    log_dir = ctx.out / "logs" / "peers"
    missing = lightspeed_07_missing()
    idle = Idle(ctx, Table("", []))
    upstream = start_upstream(log_dir, version=OGX_VERSION)
    with running(upstream):
        service = start_service(upstream, log_dir, name=SERVICE, LLAMA_STACK_API="responses")
        relay = start_relay(upstream, log_dir, api="responses", name=RELAY)
        with running(service, relay):
            peer = None if missing else start_lightspeed_07(upstream, log_dir, name=PEER)
            with running(*([peer] if peer else [])):
                middles = Middles(upstream, service, relay, peer)
                for server in middles.all():
                    idle.hold(server, PEER_IDLE)
                result.tables.append(cpu_table(ctx, middles, result))
                result.tables.append(ttfb_table(ctx, middles))
        for count in ctx.pick((), (1_000,)):
            for start in (
                lambda: start_service(upstream, log_dir, name=SERVICE, LLAMA_STACK_API="responses"),
                lambda: start_relay(upstream, log_dir, api="responses", name=RELAY),
            ):
                server = start()
                with running(server):
                    idle.hold(server, count)
    result.tables.append(idle.table())
    if missing:
        for table in result.tables:
            table.notes.append(f"lightspeed-stack 0.7.1 not run: {missing}")
    return result


def cpu_table(ctx: Context, m: Middles, result: Result) -> Table:
    """CPU per 10k tokens, fast and paced; ours ÷ relay, ours ÷ lightspeed, relay ÷ lightspeed."""
    tokens, streams, concurrency = ctx.pick((2_000, 4, 2), (10_000, 16, 4))
    paced_tokens, paced_streams = ctx.pick((300, 4), (2_000, 16))

    def fast(server: Server, fmt: str = "patternfly") -> Run:
        query = "" if fmt == "patternfly" else f"?format={fmt}"
        end = (
            END_MARKERS.get(fmt, b"") if server is m.service else END_MARKERS.get(server.name, b"")
        )
        return measure(server, tokens, streams, concurrency, query, end, fields=FIELDS)

    def paced(server: Server, fmt: str = "patternfly") -> Run:
        query = "" if fmt == "patternfly" else f"?format={fmt}"
        end = (
            END_MARKERS.get(fmt, b"") if server is m.service else END_MARKERS.get(server.name, b"")
        )
        return measure(server, paced_tokens, paced_streams, paced_streams, query, end, PACE, FIELDS)

    floor = {"fast": fast(m.relay), "paced": paced(m.relay)}
    peer = {"fast": fast(m.peer), "paced": paced(m.peer)} if m.peer else {}
    rows: list[tuple[str, str, Run]] = []
    for fmt in ctx.pick(("patternfly", PEER_FORMAT), BUILTIN_FORMATS):
        rows.append(("fast", fmt, fast(m.service, fmt)))
    for fmt in ("patternfly", PEER_FORMAT):
        rows.append(("paced", fmt, paced(m.service, fmt)))
    table = Table(
        f"End to end, Responses API (OGX {OGX_VERSION} as reported; llama-stack 0.7.3 events): "
        "CPU s per 10k tokens",
        [
            "stream",
            "middle process",
            "CPU s / 10k tokens",
            "wall tokens/s",
            "vs relay",
            f"vs {PEER}",
        ],
    )

    def add(stream: str, label: str, r: Run) -> None:
        versus = peer.get(stream)
        table.add(
            stream,
            label,
            f"{r.cpu_per_10k:.3f}",
            num(r.tokens / r.wall),
            ratio(r.cpu_per_10k, floor[stream].cpu_per_10k),
            ratio(r.cpu_per_10k, versus.cpu_per_10k) if versus else "n/a",
        )

    for stream in ("fast", "paced"):
        add(stream, LABELS[RELAY], floor[stream])
        if stream in peer:
            add(stream, LABELS[PEER], peer[stream])
        for s, fmt, r in rows:
            if s == stream:
                add(stream, f"ours (`{fmt}`)", r)
    ours = {s: r for s, fmt, r in rows if fmt == "patternfly"}
    dialect = {s: r for s, fmt, r in rows if fmt == PEER_FORMAT}
    worst_fmt, worst = max(((f, r) for s, f, r in rows if s == "fast"), key=lambda fr: fr[1].cpu)
    checks = [
        ("fast", "CPU per token, ours ÷ relay, Responses, fast", ours["fast"], TARGET),
        ("paced", "CPU per token, ours ÷ relay, Responses, paced", ours["paced"], PACED_TARGET),
        ("fast", f"worst built-in format ÷ relay, fast (`{worst_fmt}`)", worst, FORMAT_TARGET),
    ]
    for stream, figure, r, target in checks:
        over = r.cpu_per_10k / floor[stream].cpu_per_10k if floor[stream].cpu_per_10k else math.inf
        result.headlines.append(
            Headline(
                "peers",
                figure,
                ratio(r.cpu_per_10k, floor[stream].cpu_per_10k),
                f"≤ {target}x",
                over <= target,
            )
        )
    for stream, r in dialect.items():
        if stream not in peer:
            continue
        theirs, relay = peer[stream].cpu_per_10k, floor[stream].cpu_per_10k
        result.headlines.append(
            Headline(
                "peers",
                f"CPU per token, ours (`{PEER_FORMAT}`) ÷ lightspeed-stack 0.7.1, {stream} "
                "(the relay's own ratio)",
                f"{ratio(r.cpu_per_10k, theirs)} ({ratio(relay, theirs)})",
                f"≤ {TARGET}x the relay's",
                r.cpu_per_10k <= TARGET * relay,
            )
        )
    table.notes.append(
        f"fast: {streams} answers of {tokens:,} tokens, {concurrency} at a time, as fast as the "
        f"upstream writes (lightspeed-stack: {max(2, streams // 4)}, 2 at a time); paced: "
        f"{paced_streams} answers of {paced_tokens:,} tokens at once, one "
        f"token per upstream write every {PACE * 1000:g} ms (one token a read: no batching). "
        f"vs {PEER}: against lightspeed-stack 0.7.1 streaming the same answers (its own dialect, "
        f"which ours writes as `{PEER_FORMAT}`)."
    )
    return table


@dataclass
class Times:
    """The first-byte and first-token times of some streams, in seconds."""

    body: list[float]
    token: list[float]


async def sample(port: int, path: str, body: object, count: int) -> Times:
    """Open `count` streams one after the other; time each to its first byte and first token."""
    times = Times([], [])
    for _ in range(count):
        stream = await open_stream(port, path, body, marker=FIRST_TOKEN)
        try:
            await asyncio.wait_for(stream.first_marker(), 30)
        finally:
            stream.close()
        stats = stream.stats
        if stats.status != 200 or stats.ttfb is None or stats.ttfm is None:
            raise RuntimeError(f"port {port}: status {stats.status}, no first token ({stats})")
        times.body.append(stats.ttfb)
        times.token.append(stats.ttfm)
    return times


def ttfb_table(ctx: Context, m: Middles) -> Table:
    """Time to first byte and to first token through each middle, less the upstream's own."""
    count = ctx.pick(8, 60)
    answers = {"fast": "tokens=200", "paced": f"tokens=20 pace={TTFB_PACE:g}"}
    table = Table(
        "Time to first byte and to first token (ms), Responses API: added to the upstream's own",
        [
            "stream",
            "middle process",
            "samples",
            "first byte p50",
            "first byte p99",
            "first token p50",
            "first token p99",
            "added to first token p50",
            "added p99",
        ],
    )
    for stream, query in answers.items():
        direct = asyncio.run(
            sample(
                m.upstream.port,
                "/v1/responses",
                {"model": MODEL, "input": query, "stream": True},
                count,
            )
        )
        rows = [("upstream itself", direct)]
        for server in m.all():
            times = asyncio.run(
                sample(server.port, STREAMING_QUERY, {"query": query, **FIELDS}, count)
            )
            rows.append((LABELS[server.name], times))
        base = (percentile(direct.token, 0.5), percentile(direct.token, 0.99))
        for label, t in rows:
            p50, p99 = percentile(t.token, 0.5), percentile(t.token, 0.99)
            table.add(
                stream,
                label,
                count,
                f"{percentile(t.body, 0.5) * 1000:.2f}",
                f"{percentile(t.body, 0.99) * 1000:.2f}",
                f"{p50 * 1000:.2f}",
                f"{p99 * 1000:.2f}",
                f"{(p50 - base[0]) * 1000:.2f}",
                f"{(p99 - base[1]) * 1000:.2f}",
            )
    table.notes.append(
        "One stream at a time, each on a new connection; times from the request written to the "
        f"first body byte and to the first token's text (`{FIRST_TOKEN.decode()}`). fast: "
        f"{answers['fast']} written as fast as the upstream can; paced: one upstream write every "
        f"{TTFB_PACE * 1000:g} ms, the events before the first token included."
    )
    return table


PEER_IDLE = 10
"""Idle streams lightspeed-stack 0.7.1 is held at: 20 at once opened in one run and not in
another, 30 never (new ones got no first byte within 20 s); where it queues was not located."""


PEER_OPEN_TIMEOUT = 30.0
"""Seconds every middle gets to give all its idle streams their first byte."""


@dataclass
class Idle:
    """Idle streams held by each middle, level by level, and the table they make."""

    ctx: Context
    notes: Table
    figures: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict)

    def hold(self, server: Server, count: int) -> None:
        """Hold `count` idle streams on `server` (a fresh process); keep its figures."""
        window = self.ctx.pick(1.0, 3.0)
        try:
            self.figures[server.name, count] = asyncio.run(
                hold(server, count, window, FIELDS, PEER_OPEN_TIMEOUT)
            )
        except TimeoutError:
            if server.name != PEER:
                raise
            self.notes.notes.append(
                f"lightspeed-stack 0.7.1 did not open {count} idle streams within "
                f"{PEER_OPEN_TIMEOUT:g} s."
            )

    def table(self) -> Table:
        """RSS per idle stream of each middle, against the relay's and lightspeed-stack's."""
        table = Table(
            "Idle streams, Responses API: streams held open on a silent upstream",
            [
                "middle process",
                "streams",
                "opened in s",
                "RSS MiB",
                "KiB / stream",
                "vs relay",
                f"vs {PEER}",
            ],
        )
        for (name, count), r in self.figures.items():
            relay = self.figures[RELAY, count]["rss_per_stream"]
            peer = self.figures.get((PEER, count), {}).get("rss_per_stream", 0.0)
            table.add(
                LABELS[name],
                f"{count:,}",
                f"{r['open_seconds']:.1f}",
                f"{r['rss'] / 2**20:.0f}",
                f"{r['rss_per_stream'] / 1024:.1f}",
                ratio(r["rss_per_stream"], relay),
                ratio(r["rss_per_stream"], peer) if peer else "n/a",
            )
        table.notes.extend(self.notes.notes)
        table.notes.append(
            "KiB / stream: (RSS with the streams open - RSS after one warm-up stream) ÷ streams, "
            f"each middle a fresh process; ours sends a heartbeat every {HEARTBEAT_DEFAULT:g} s "
            "(its default), the relay and lightspeed-stack none. lightspeed-stack 0.7.1 is held at "
            f"{PEER_IDLE} streams: 20 at once opened in one run and not in another, 30 never (the "
            "later ones got no first byte within 20 s; its log says `Agent inference returned "
            "503: Request timed out.`); where it queues was not located."
        )
        return table
