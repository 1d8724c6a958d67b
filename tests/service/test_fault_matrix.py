"""The fault matrix: every installed format against upstream and client faults, on a real server.

Each case runs the service the way `python -m service` does (`serve_like_production`: no
handler cancellation on disconnect) in front of the fake Agents or Responses upstream, counts
the tasks and sockets of the process before and after, and checks what the client got and that
the next request is answered normally. The rows go to `artifacts/fault-matrix.json`;
`scripts/fault-matrix` (`make fault-matrix`) prints them as the table in docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import socket
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from structlog.testing import capture_logs

from fakes import agents_upstream, responses_upstream
from fakes.agents_upstream import Drop, FakeAgentsUpstream, Sleep, Status, Step
from fakes.responses_upstream import FakeResponsesUpstream, sse
from formatters.events import EndEvent, ErrorEvent, HeartbeatEvent
from service.http.app import create_app
from service.keys import ACTIVE_STREAMS
from service.settings import Settings
from service.streams.registry import load_registry
from service.upstream import LOST_UPSTREAM
from tests.formatters.cases import texts
from tests.paths import REPO

FORMATS = load_registry().names()
UPSTREAMS = ("agents", "responses")
QUERY = {"query": "Say hello."}
ARTIFACT = REPO / "artifacts" / "fault-matrix.json"

HEARTBEAT = 0.25
"""Heartbeat interval of every case: a disconnect must cancel the upstream within it."""
STREAM_TIMEOUT = 1.0
"""Time limit of the hanging-upstream case."""
WRITE_TIMEOUT = 0.5
"""How long the slow client's stream may wait on a write it does not take."""
SETTLE = 3.0
"""How long a case may take to give back its tasks and sockets once the stream has ended."""

AGENTS_FAIL_MESSAGE = "500: Internal server error: An unexpected error occurred."
RESPONSES_ERROR_MESSAGE = "Internal server error: the model went away."
RESPONSES_FAILED_MESSAGE = "An unexpected error occurred while generating the response."
CUT_SHORT_MESSAGE = "The agent's stream ended before the answer was complete."
TOO_LARGE_MESSAGE = "The agent sent an event larger than the 16 MiB this service accepts."


# What a frame is, in any format: its SSE event name, else its JSON tag, else its data.


def frame_kind(frame: str) -> str:
    """Classify an SSE frame: `event:` name, else the JSON `event`/`type`, else the data."""
    event, data = None, []
    for line in frame.splitlines():
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if not data:
        return "comment"
    if event is not None:
        return f"event:{event}"
    text = "\n".join(data)
    try:
        payload = json.loads(text)
    except ValueError:
        return text
    if isinstance(payload, dict) and payload.get("jsonrpc") == "2.0":
        return a2a_kind(payload)
    if isinstance(payload, dict):
        tag = payload.get("event", payload.get("type"))
        return tag if isinstance(tag, str) else ",".join(sorted(payload))
    return text


def a2a_kind(response: dict[str, Any]) -> str:
    """An A2A frame's kind: its result's (a status update: its state), or `error`."""
    if "result" not in response:
        return "error"
    ((kind, value),) = response["result"].items()
    return str(value["status"]["state"]) if kind == "statusUpdate" else str(kind)


@dataclass(frozen=True)
class Kinds:
    """The kinds of a format's heartbeat, error and terminal frames, from the formatter itself."""

    heartbeat: str
    error: str
    terminal: str
    failed: str = field(default="", compare=False)
    """The terminal frame's kind after an error (`responses`: `response.failed`; `ag-ui`: the
    error frame itself, RUN_ERROR, which AG-UI lets nothing follow)."""

    @classmethod
    def of(cls, format_name: str) -> Kinds:
        formatter = load_registry().get(format_name)
        failing = formatter()
        failed_with = failing.format(ErrorEvent(message="m"))
        return cls(
            heartbeat=frame_kind(texts(formatter().format(HeartbeatEvent()))[-1]),
            error=frame_kind(texts(formatter().format(ErrorEvent(message="m")))[-1]),
            terminal=frame_kind(texts(formatter().format(EndEvent()))[-1]),
            failed=frame_kind(texts([*failed_with, *failing.format(EndEvent())])[-1]),
        )


def terminal_label(format_name: str) -> str:
    """The first line of a format's terminal frame, cut to 24 characters."""
    line = texts(load_registry().get(format_name)().format(EndEvent()))[-1].splitlines()[0]
    return line if len(line) <= 24 else line[:24] + "…"


def split_frames(body: bytes) -> list[str]:
    text = body.decode()
    assert text.endswith("\n\n"), f"the stream does not end with a complete frame: {text[-80:]!r}"
    return [frame + "\n\n" for frame in text[:-2].split("\n\n")]


# What the process holds: tasks and sockets.


def open_sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@dataclass
class Snapshot:
    tasks: int
    sockets: int

    @classmethod
    def take(cls) -> Snapshot:
        return cls(len(asyncio.all_tasks()), open_sockets())


async def leaks_since(before: Snapshot) -> tuple[int, int]:
    """Wait up to SETTLE for tasks and sockets to come back to `before`; return what is left."""
    deadline = time.monotonic() + SETTLE
    while True:
        now = Snapshot.take()
        extra = (max(0, now.tasks - before.tasks), max(0, now.sockets - before.sockets))
        if extra == (0, 0) or time.monotonic() > deadline:
            return extra
        await asyncio.sleep(0.05)


# One row of the matrix.


@dataclass
class Row:
    case: str
    upstream: str
    format: str
    status: int = 0
    sees: str = ""
    seconds: float = 0.0
    leaked_tasks: int = 0
    leaked_sockets: int = 0
    next_request_ok: bool = False
    detail: dict[str, Any] = field(default_factory=dict)


ROWS: list[Row] = []


@pytest.fixture(scope="module", autouse=True)
def write_the_matrix() -> Any:
    """Write every row this run produced to artifacts/fault-matrix.json."""
    yield
    if not ROWS:
        return
    ARTIFACT.parent.mkdir(exist_ok=True)
    document = {
        "generated": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": ".venv/bin/pytest tests/service/test_fault_matrix.py",
        "settings": {
            "heartbeat_interval": HEARTBEAT,
            "stream_timeout": STREAM_TIMEOUT,
            "write_timeout": WRITE_TIMEOUT,
        },
        "formats": FORMATS,
        "terminal_frames": {name: terminal_label(name) for name in FORMATS},
        "rows": [asdict(row) for row in ROWS],
    }
    ARTIFACT.write_text(json.dumps(document, indent=1) + "\n")


def summarize(frames: list[str], kinds: Kinds) -> str:
    """Name each frame (heartbeat, error, terminal, frame) and run-length the sequence."""
    names = []
    for frame in frames:
        kind = frame_kind(frame)
        named = {kinds.heartbeat: "heartbeat", kinds.error: "error", kinds.terminal: "terminal"}
        if kinds.failed:
            named[kinds.failed] = "terminal"
        names.append(named.get(kind, "frame"))
    runs: list[list[Any]] = []
    for name in names:
        if runs and runs[-1][0] == name:
            runs[-1][1] += 1
        else:
            runs.append([name, 1])
    return ", ".join(name if count == 1 else f"{name} x{count}" for name, count in runs)


# The service in front of a fake upstream.


def agents_steps() -> list[Step]:
    return agents_upstream.fixture_steps("text.sse")


def responses_steps() -> list[Step]:
    return responses_upstream.fixture_steps("text.sse")


class Bench:
    """One upstream fake, the service in front of it, and a client."""

    def __init__(self, kind: str, aiohttp_server: Any, serve: Any) -> None:
        self.kind = kind
        self.fake: FakeAgentsUpstream | FakeResponsesUpstream = (
            FakeAgentsUpstream() if kind == "agents" else FakeResponsesUpstream()
        )
        self._aiohttp_server = aiohttp_server
        self._serve = serve
        self.app: web.Application | None = None
        self.base = ""
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))

    def normal_steps(self) -> list[Step]:
        return agents_steps() if self.kind == "agents" else responses_steps()

    async def start(self, *, port: int | None = None, upstream_up: bool = True, **overrides: Any):
        if upstream_up:
            server = await self._aiohttp_server(self.fake.app(), port=port)
            url = str(server.make_url("/"))
        else:
            url = f"http://127.0.0.1:{port}"
        settings = Settings(
            llama_stack_base_url=url,
            llama_stack_api=self.kind,
            heartbeat_interval=HEARTBEAT,
            stream_timeout=overrides.pop("stream_timeout", 30.0),
            write_timeout=overrides.pop("write_timeout", 30.0),
            **overrides,
        )
        self.app = create_app(settings)
        self.base = await self._serve(self.app)

    async def upstream_up_on(self, port: int) -> None:
        await self._aiohttp_server(self.fake.app(), port=port)

    async def stream(self, format_name: str) -> tuple[int, bytes, float]:
        started = time.monotonic()
        async with self.session.post(
            f"{self.base}/v1/streaming_query?format={format_name}", json=QUERY
        ) as response:
            body = await response.read()
        return response.status, body, time.monotonic() - started

    async def next_request_ok(self, format_name: str, kinds: Kinds) -> bool:
        """Answer a normal turn in full: the service is healthy after the fault."""
        self.fake.steps = self.normal_steps()
        self.fake.turn_started.clear()
        self.fake.turn_ended.clear()
        status, body, _ = await self.stream(format_name)
        if status != 200:
            return False
        frames = split_frames(body)
        kinds_seen = [frame_kind(frame) for frame in frames]
        return kinds_seen[-1] == kinds.terminal and kinds.error not in kinds_seen

    async def warm_up(self, format_name: str, kinds: Kinds) -> None:
        assert await self.next_request_ok(format_name, kinds)

    def active(self) -> int:
        assert self.app is not None
        return self.app[ACTIVE_STREAMS].count

    async def close(self) -> None:
        await self.session.close()


@pytest.fixture
async def bench_for(aiohttp_server: Any, serve_like_production: Any) -> Any:
    benches: list[Bench] = []

    def make(kind: str) -> Bench:
        bench = Bench(kind, aiohttp_server, serve_like_production)
        benches.append(bench)
        return bench

    yield make
    for bench in benches:
        await bench.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Faults in the upstream's stream: error frame then terminal frame.


def error_chunk(kind: str) -> tuple[list[Step], str]:
    if kind == "agents":
        return agents_upstream.fixture_steps("fail.sse"), AGENTS_FAIL_MESSAGE
    boom = sse({"error": {"message": RESPONSES_ERROR_MESSAGE}})
    return [*responses_steps()[:5], boom], RESPONSES_ERROR_MESSAGE


def response_failed(kind: str) -> tuple[list[Step], str]:
    return responses_upstream.fixture_steps("fail-mid.sse"), RESPONSES_FAILED_MESSAGE


def dropped(kind: str) -> tuple[list[Step], str]:
    cut = b'data: {"event": {"pay' if kind == "agents" else b'data: {"content_index":0,"del'
    start = agents_steps()[:4] if kind == "agents" else responses_steps()[:6]
    return [*start, cut, Drop()], LOST_UPSTREAM


def hangs(kind: str) -> tuple[list[Step], str]:
    start = agents_steps()[:4] if kind == "agents" else responses_steps()[:6]
    return [*start, Sleep(60)], (
        f"The answer took longer than the {STREAM_TIMEOUT:g} s this service allows."
    )


def cut_short(kind: str) -> tuple[list[Step], str]:
    """The whole answer, then a clean end of the body without `turn_complete`/`response.completed`."""
    steps = agents_steps() if kind == "agents" else responses_steps()
    return steps[:-1], CUT_SHORT_MESSAGE


def oversized(kind: str) -> tuple[list[Step], str]:
    """Some tokens, then one event line that never ends, past the 16 MiB cap."""
    start = agents_steps()[:4] if kind == "agents" else responses_steps()[:6]
    return [*start, b"data: " + b"x" * (17 * 1024 * 1024), Sleep(60)], TOO_LARGE_MESSAGE


STREAM_FAULTS: dict[str, tuple[Callable[[str], tuple[list[Step], str]], tuple[str, ...]]] = {
    "error chunk from the upstream": (error_chunk, UPSTREAMS),
    "`response.failed` mid-answer": (response_failed, ("responses",)),
    "upstream drops the connection mid-stream": (dropped, UPSTREAMS),
    "upstream ends its body before the turn is complete": (cut_short, UPSTREAMS),
    "upstream sends one event over 16 MiB": (oversized, UPSTREAMS),
    "upstream hangs after some tokens": (hangs, UPSTREAMS),
}


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize(
    ("case", "upstream"),
    [(case, kind) for case, (_, kinds) in STREAM_FAULTS.items() for kind in kinds],
)
async def test_a_fault_in_the_upstream_stream_gives_error_then_terminal_frame(
    bench_for, case, upstream, format_name
):
    build, message = STREAM_FAULTS[case][0], ""
    kinds = Kinds.of(format_name)
    bench = bench_for(upstream)
    await bench.start(stream_timeout=STREAM_TIMEOUT)
    await bench.warm_up(format_name, kinds)
    before = Snapshot.take()
    bench.fake.steps, message = build(upstream)
    with capture_logs() as logs:
        status, body, seconds = await bench.stream(format_name)
    outcomes = [e["outcome"] for e in logs if e["event"] == "stream end"]
    assert status == 200
    frames = split_frames(body)
    seen = [frame_kind(frame) for frame in frames]
    assert seen[-1] == kinds.failed, frames[-3:]
    assert seen.count(kinds.failed) == 1
    error_at = seen.index(kinds.error)
    assert error_at < len(seen) - 1 or kinds.failed == kinds.error
    assert message.casefold() in frames[error_at].casefold(), frames[error_at]
    assert kinds.error not in seen[error_at + 1 :]
    heartbeats = seen.count(kinds.heartbeat) if kinds.heartbeat != "comment" else 0
    heartbeats += sum(1 for frame in frames if frame.startswith(":"))
    if case == "upstream hangs after some tokens":
        assert STREAM_TIMEOUT <= seconds < STREAM_TIMEOUT + 1.0
        assert heartbeats >= 2, "heartbeats keep flowing while the upstream hangs"
        assert outcomes == ["timeout"]
    else:
        assert seconds < 1.0
        assert outcomes == ["upstream_error"]
    await asyncio.wait_for(bench.fake.turn_ended.wait(), 5)
    upstream_end = bench.fake.end_reason
    leaked_tasks, leaked_sockets = await leaks_since(before)
    next_ok = await bench.next_request_ok(format_name, kinds)
    ROWS.append(
        Row(
            case=case,
            upstream=upstream,
            format=format_name,
            status=status,
            sees=summarize(frames, kinds),
            seconds=round(seconds, 3),
            leaked_tasks=leaked_tasks,
            leaked_sockets=leaked_sockets,
            next_request_ok=next_ok,
            detail={
                "error": message,
                "heartbeats": heartbeats,
                "upstream": upstream_end,
                "outcome": outcomes[0],
            },
        )
    )
    assert (leaked_tasks, leaked_sockets) == (0, 0)
    assert next_ok


# Faults before the stream: a 503 in the contract's error shape, not a stream.


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_an_upstream_5xx_before_the_stream_is_a_503_json(bench_for, upstream, format_name):
    kinds = Kinds.of(format_name)
    bench = bench_for(upstream)
    await bench.start()
    await bench.warm_up(format_name, kinds)
    before = Snapshot.take()
    bench.fake.steps = [Status(500, '{"error": {"message": "boom"}, "detail": "boom"}')]
    status, body, seconds = await bench.stream(format_name)
    answer = json.loads(body)
    assert status == 503
    assert answer["detail"]["response"] == "Unable to connect to Llama Stack"
    assert "HTTP 500" in answer["detail"]["cause"]
    leaked_tasks, leaked_sockets = await leaks_since(before)
    next_ok = await bench.next_request_ok(format_name, kinds)
    ROWS.append(
        Row(
            case="upstream answers 5xx before the stream",
            upstream=upstream,
            format=format_name,
            status=status,
            sees=f"503 JSON: {answer['detail']['response']}",
            seconds=round(seconds, 3),
            leaked_tasks=leaked_tasks,
            leaked_sockets=leaked_sockets,
            next_request_ok=next_ok,
            detail=answer,
        )
    )
    assert (leaked_tasks, leaked_sockets) == (0, 0)
    assert next_ok


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_a_refused_upstream_connection_is_a_503_json_until_it_comes_back(
    bench_for, upstream, format_name
):
    kinds = Kinds.of(format_name)
    bench = bench_for(upstream)
    port = free_port()
    await bench.start(port=port, upstream_up=False)
    await (await bench.session.get(f"{bench.base}/liveness")).read()
    before = Snapshot.take()
    status, body, seconds = await bench.stream(format_name)
    answer = json.loads(body)
    assert status == 503
    assert answer["detail"]["cause"].startswith("llama-stack is unreachable: ")
    leaked_tasks, leaked_sockets = await leaks_since(before)
    await bench.upstream_up_on(port)
    next_ok = await bench.next_request_ok(format_name, kinds)
    ROWS.append(
        Row(
            case="upstream refuses the connection",
            upstream=upstream,
            format=format_name,
            status=status,
            sees=f"503 JSON: {answer['detail']['response']}",
            seconds=round(seconds, 3),
            leaked_tasks=leaked_tasks,
            leaked_sockets=leaked_sockets,
            next_request_ok=next_ok,
            detail=answer,
        )
    )
    assert (leaked_tasks, leaked_sockets) == (0, 0)
    assert next_ok, "once the upstream is back, the next request streams normally"


# Faults on the client's side.


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_a_client_leaving_while_the_upstream_is_silent_cancels_the_upstream_in_time(
    bench_for, upstream, format_name
):
    kinds = Kinds.of(format_name)
    bench = bench_for(upstream)
    await bench.start()
    await bench.warm_up(format_name, kinds)
    before = Snapshot.take()
    start = agents_steps()[:3] if upstream == "agents" else responses_steps()[:5]
    bench.fake.steps = [*start, Sleep(60)]
    bench.fake.turn_started.clear()
    bench.fake.turn_ended.clear()
    response = await bench.session.post(
        f"{bench.base}/v1/streaming_query?format={format_name}", json=QUERY
    )
    assert response.status == 200
    await response.content.readuntil(b"\n\n")
    await asyncio.wait_for(bench.fake.turn_started.wait(), 5)
    await asyncio.sleep(0.1)
    response.close()
    closed_at = time.monotonic()
    await asyncio.wait_for(bench.fake.turn_ended.wait(), 5)
    assert bench.fake.ended_at is not None
    cancelled_after = bench.fake.ended_at - closed_at
    upstream_end = bench.fake.end_reason
    leaked_tasks, leaked_sockets = await leaks_since(before)
    assert bench.active() == 0
    next_ok = await bench.next_request_ok(format_name, kinds)
    ROWS.append(
        Row(
            case="client disconnects while the upstream is silent",
            upstream=upstream,
            format=format_name,
            status=200,
            sees=f"(gone) upstream turn {upstream_end}",
            seconds=round(cancelled_after, 3),
            leaked_tasks=leaked_tasks,
            leaked_sockets=leaked_sockets,
            next_request_ok=next_ok,
            detail={"upstream": upstream_end, "heartbeat_interval": HEARTBEAT},
        )
    )
    assert upstream_end == "cancelled"
    assert cancelled_after < HEARTBEAT + 0.15, "upstream cancelled within one heartbeat interval"
    assert (leaked_tasks, leaked_sockets) == (0, 0)
    assert next_ok


LONG_TEXT = "All work and no play makes a long answer. " * 100
"""About 4 KiB of answer text per upstream chunk."""
LONG_CHUNKS = 5000
"""About 20 MiB offered to a client that reads none of it."""


def long_answer(kind: str) -> list[Step]:
    """A normal turn whose answer is LONG_CHUNKS chunks of LONG_TEXT (one bytes object, reused)."""
    steps = agents_steps() if kind == "agents" else responses_steps()
    first_delta = 1 if kind == "agents" else 4
    template = steps[first_delta]
    assert isinstance(template, bytes)
    big = template.replace(b"Hello ", LONG_TEXT.encode(), 1)
    assert big != template
    return [*steps[:first_delta], *[big] * LONG_CHUNKS, *steps[first_delta + 1 :]]


async def wait_until(predicate: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def stalled_client(base: str, format_name: str) -> socket.socket:
    """Open a connection with a 4 KiB receive buffer, send the request, and never read."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, int(port)))
    body = json.dumps(QUERY).encode()
    request = (
        f"POST /v1/streaming_query?format={format_name} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    await loop.sock_sendall(sock, request)
    return sock


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_a_client_that_reads_nothing_is_ended_after_the_write_timeout_in_flat_memory(
    bench_for, upstream, format_name
):
    kinds = Kinds.of(format_name)
    bench = bench_for(upstream)
    await bench.start(write_timeout=WRITE_TIMEOUT)
    await bench.warm_up(format_name, kinds)
    before = Snapshot.take()
    bench.fake.steps = long_answer(upstream)
    bench.fake.turn_ended.clear()
    rss_before = rss_kib()
    tracemalloc.start()
    try:
        with capture_logs() as logs:
            sock = await stalled_client(bench.base, format_name)
            started = time.monotonic()
            await wait_until(lambda: bench.active() == 1, 5)
            await wait_until(lambda: bench.active() == 0, WRITE_TIMEOUT + 10)
            seconds = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = rss_kib() - rss_before
    await asyncio.wait_for(bench.fake.turn_ended.wait(), 5)
    upstream_end = bench.fake.end_reason
    sock.close()
    leaked_tasks, leaked_sockets = await leaks_since(before)
    next_ok = await bench.next_request_ok(format_name, kinds)
    offered = LONG_CHUNKS * len(LONG_TEXT)
    stalled = [e for e in logs if e["event"] == "client stopped reading, stream ended"]
    ends = [e for e in logs if e["event"] == "stream end"]
    ROWS.append(
        Row(
            case="slow client that reads nothing",
            upstream=upstream,
            format=format_name,
            status=200,
            sees="(not reading) stream ended: `client stopped reading, stream ended` logged",
            seconds=round(seconds, 3),
            leaked_tasks=leaked_tasks,
            leaked_sockets=leaked_sockets,
            next_request_ok=next_ok,
            detail={
                "offered_bytes": offered,
                "traced_peak_kib": peak // 1024,
                "rss_growth_kib": rss_growth,
                "upstream": upstream_end,
                "outcome": ends[0]["outcome"] if ends else None,
            },
        )
    )
    assert len(stalled) == 1
    assert [e["outcome"] for e in ends] == ["client_stalled"]
    assert peak < 8 * 1024 * 1024, f"{peak // 1024} KiB traced while {offered} bytes were offered"
    assert upstream_end == "cancelled", "the upstream turn is not read on for nobody"
    assert WRITE_TIMEOUT <= seconds < WRITE_TIMEOUT + 5
    assert (leaked_tasks, leaked_sockets) == (0, 0)
    assert next_ok


def test_frame_kinds_tell_the_terminal_and_error_frames_of_each_format():
    assert Kinds.of("patternfly") == Kinds("heartbeat", "error", "end")
    assert Kinds.of("raw") == Kinds("event:heartbeat", "event:turn_error", "event:end")
    assert Kinds.of("openai") == Kinds("comment", "error", "[DONE]")
    assert Kinds.of("vercel") == Kinds("comment", "error", "[DONE]")
    assert Kinds.of("responses") == Kinds("comment", "event:error", "event:response.completed")
    assert Kinds.of("responses").failed == "event:response.failed"
    assert Kinds.of("openai").failed == "[DONE]"
    assert Kinds.of("anthropic") == Kinds("event:ping", "event:error", "event:message_stop")
    assert Kinds.of("anthropic").failed == "event:message_stop"
    assert Kinds.of("ag-ui") == Kinds("comment", "RUN_ERROR", "RUN_FINISHED")
    assert Kinds.of("ag-ui").failed == "RUN_ERROR"
    assert Kinds.of("a2a") == Kinds("comment", "TASK_STATE_FAILED", "TASK_STATE_COMPLETED")
    assert Kinds.of("a2a").failed == "TASK_STATE_FAILED"


def test_summaries_name_heartbeats_errors_and_the_terminal_frame():
    kinds = Kinds.of("openai")
    frames = ['data: {"id": 1}\n\n'] * 2 + [": keep-alive\n\n", 'data: {"error": {}}\n\n']
    assert summarize([*frames, "data: [DONE]\n\n"], kinds) == (
        "frame x2, heartbeat, error, terminal"
    )
    assert re.fullmatch(r"[a-z x0-9,]+", summarize(frames, kinds))


def test_the_table_script_folds_every_format_into_one_row_per_case_and_upstream():
    spec = importlib.util.spec_from_file_location("fault_matrix", REPO / "scripts/fault_matrix.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    row = {
        "case": "upstream drops the connection mid-stream",
        "upstream": "agents",
        "status": 200,
        "leaked_tasks": 0,
        "leaked_sockets": 0,
        "detail": {"error": LOST_UPSTREAM},
    }
    document = {
        "generated": "today",
        "command": "pytest",
        "settings": {"heartbeat_interval": 0.25, "stream_timeout": 1, "write_timeout": 0.5},
        "formats": ["openai", "patternfly"],
        "terminal_frames": {"openai": "data: [DONE]", "patternfly": "data: {...}"},
        "rows": [
            {
                **row,
                "format": "openai",
                "sees": "frame x2, error, terminal",
                "seconds": 0.01,
                "next_request_ok": True,
            },
            {
                **row,
                "format": "patternfly",
                "sees": "frame x5, error, terminal",
                "seconds": 0.02,
                "next_request_ok": False,
                "leaked_sockets": 1,
            },
        ],
    }
    table = script.render(document).splitlines()
    assert table[-1] == (
        "| upstream drops the connection mid-stream | agents | `200` stream, then "
        f"`error, terminal`: “{LOST_UPSTREAM}” | 0.02 s | 0 / 1 | normal in 1/2 |"
    )
