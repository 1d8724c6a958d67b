"""Real clients on resumable streams (RESUME_WINDOW > 0).

@microsoft/fetch-event-source, behind a loopback proxy that cuts its connections, reassembles
the whole patternfly answer with its own retries; eventsource-parser and the AI SDK read every
format with `id:` lines; the openai SDK reads through keep-alives once ids are on; the
`eventsource` package (the WHATWG EventSource) stops reconnecting at a stream's end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai
import pytest
from openai._streaming import SSEDecoder

from fakes.agents_upstream import FakeAgentsUpstream
from tests.clients.http_tap import Tap
from tests.clients.scenarios import HEARTBEAT, TOOL_ANSWER, tool_turn
from tests.clients.test_node_clients import FORMATS, parse, run
from tests.service.sse_reader import SseReader

pytestmark = pytest.mark.node

QUESTION = {"query": "What is the weather in Paris?"}


class CuttingProxy:
    """A loopback TCP proxy that cuts connection i's response after `cuts[i]` bytes (or right
    after the bytes matching `cut_after`); later connections pass whole."""

    def __init__(self, target_port: int, cuts: list[int], cut_after: bytes | None = None):
        self._target_port = target_port
        self._cuts = list(cuts)
        self._pattern = None if cut_after is None else re.compile(cut_after)
        self.connections = 0
        self.cut = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        for handler in self._handlers:
            handler.cancel()
        if self._handlers:
            await asyncio.wait(self._handlers)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter):
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        self.connections += 1
        limit = self._cuts.pop(0) if self._cuts else None
        pattern = self._pattern if self.connections == 1 else None
        up_in, up_out = await asyncio.open_connection("127.0.0.1", self._target_port)
        upload = asyncio.create_task(_pipe(client_in, up_out))
        sent, seen = 0, b""
        try:
            while chunk := await up_in.read(65536):
                if limit is not None and sent + len(chunk) >= limit:
                    client_out.write(chunk[: limit - sent])
                    self.cut += 1
                    break
                if pattern is not None:
                    seen += chunk
                    match = pattern.search(seen)
                    if match is not None:
                        client_out.write(chunk[: len(chunk) - (len(seen) - match.end())])
                        self.cut += 1
                        break
                client_out.write(chunk)
                sent += len(chunk)
                await client_out.drain()
            await client_out.drain()
        finally:
            upload.cancel()
            client_out.close()
            up_out.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()


@pytest.fixture
async def resumable(agents_client: Any, fake_agents: FakeAgentsUpstream) -> Any:
    """The service with resume on, in front of the fake upstream playing the tool turn."""
    fake_agents.steps = tool_turn()
    return await agents_client(heartbeat_interval=HEARTBEAT, resume_window=30)


@pytest.fixture
async def proxy(resumable: Any) -> AsyncIterator[Any]:
    """Start a CuttingProxy in front of the service; yield a function making one."""
    proxies: list[CuttingProxy] = []

    async def make(cuts: list[int], cut_after: bytes | None = None) -> tuple[CuttingProxy, str]:
        made = CuttingProxy(resumable.port, cuts, cut_after)
        proxies.append(made)
        return made, f"http://127.0.0.1:{await made.start()}"

    yield make
    for made in proxies:
        await made.close()


async def whole_stream(resumable: Any, stream_id: str) -> SseReader:
    reader = SseReader()
    reader.feed((await (await resumable.get(f"/v1/streams/{stream_id}")).read()).decode())
    return reader


async def test_fetch_event_source_reassembles_a_cut_stream_with_its_own_retries_once(
    node, resumable, proxy, fake_agents
):
    rng = random.Random(7)
    cuts = [rng.randint(400, 1500) for _ in range(3)]
    cutter, base = await proxy(cuts)
    result = await run(
        node,
        "fetch_event_source_resume.mjs",
        url=f"{base}/v1/streaming_query",
        body=QUESTION,
    )
    assert result["errors"] == []
    assert result["closed"]
    assert cutter.cut == 3
    assert len(result["retried"]) == 3
    stream_ids = {opened["streamId"] for opened in result["opens"]}
    assert len(result["opens"]) == 4 and len(stream_ids) == 1
    whole = await whole_stream(resumable, stream_ids.pop())
    assert [m["data"] for m in result["messages"]] == [json.loads(e.data) for e in whole.events]
    assert [m["id"] for m in result["messages"]] == [e.id for e in whole.events]
    events = [m["data"]["event"] for m in result["messages"]]
    assert events[-2:] == ["turn_complete", "end"]
    assert events.count("heartbeat") >= 2
    assert result["messages"][-2]["data"]["data"]["token"] == TOOL_ANSWER
    assert len(fake_agents.turns) == 1


@pytest.mark.parametrize("last_dispatched_id", [False, True])
async def test_a_cut_between_a_frame_s_id_line_and_its_blank_line(
    node, resumable, proxy, last_dispatched_id
):
    # fetch-event-source keeps an id as soon as it reads the `id:` line, before the blank line
    # that ends the frame: a cut exactly there loses that frame on retry (the README says so).
    # A fetch wrapper sending the id of the last message onmessage saw closes that window.
    cutter, base = await proxy([], cut_after=rb"id: [A-Za-z0-9_-]{22}:5\n")
    result = await run(
        node,
        "fetch_event_source_resume.mjs",
        url=f"{base}/v1/streaming_query",
        body=QUESTION,
        lastDispatchedId=last_dispatched_id,
    )
    assert result["errors"] == []
    assert cutter.cut == 1
    whole = await whole_stream(resumable, result["opens"][0]["streamId"])
    expected = [json.loads(e.data) for e in whole.events]
    if not last_dispatched_id:
        del expected[5]
    assert [m["data"] for m in result["messages"]] == expected


@pytest.mark.parametrize("format_name", FORMATS)
async def test_eventsource_parser_reads_every_format_with_ids_and_keep_alives(
    node, resumable, format_name
):
    ends_well, heartbeats, tool_calls, errors = FORMATS[format_name]
    base = str(resumable.make_url("")).rstrip("/")
    result = await parse(node, base, format_name)
    stream_id = result["headers"]["x-stream-id"]
    assert ends_well(result)
    assert heartbeats(result) >= 2
    assert tool_calls(result)
    assert errors(result) == []
    sequences = [int(e["id"].removeprefix(f"{stream_id}:")) for e in result["events"]]
    assert sequences == sorted(set(sequences))


async def test_the_ai_sdk_chat_reads_a_resumable_vercel_stream(node, resumable):
    url = f"{str(resumable.make_url('')).rstrip('/')}/v1/streaming_query?format=vercel"
    result = await run(node, "ai_chat.mjs", url=url, question=QUESTION["query"])
    assert result["errors"] == []
    assert result["finish"]["finishReason"] == "stop"
    assert result["received"].count(": keep-alive\n") >= 2
    assert ": keep-alive\n\n" not in result["received"]
    assert re.search(r"\nid: [A-Za-z0-9_-]{22}:\d+\n\n", result["received"])
    texts = [part["text"] for part in result["messages"][-1]["parts"] if part["type"] == "text"]
    assert texts == [TOOL_ANSWER]


async def test_the_openai_sdk_reads_a_resumable_stream_through_its_keep_alives(resumable):
    tap = Tap()
    client = openai.AsyncOpenAI(
        base_url=f"{str(resumable.make_url('')).rstrip('/')}/v1",
        api_key="unused",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=tap),
    )
    try:
        stream = await client.chat.completions.create(
            model="vllm/fake-model",
            messages=[{"role": "user", "content": QUESTION["query"]}],
            stream=True,
        )
        chunks = [chunk async for chunk in stream]
    finally:
        await client.close()
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == TOOL_ANSWER
    assert chunks[-1].choices[0].finish_reason == "stop"
    received = tap.received.decode()
    assert received.count(": keep-alive\n") >= 2
    assert ": keep-alive\n\n" not in received
    assert len(re.findall(r"^id: ", received, re.MULTILINE)) == len(chunks) + 1  # and [DONE]


def test_the_openai_sdk_would_fail_on_a_keep_alive_frame_after_an_id() -> None:
    # Why the keep-alive goes out bare with resume on: the SDK's decoder keeps the last id and
    # turns the blank line after a comment into an event with empty data, which is not JSON.
    decoder = SSEDecoder()
    lines = ["id: s:0", 'data: {"a": 1}', "", ": keep-alive", "", ": keep-alive", 'data: {"b": 2}']
    events = [event for line in [*lines, ""] if (event := decoder.decode(line)) is not None]
    assert [event.data for event in events] == ['{"a": 1}', "", '{"b": 2}']
    with pytest.raises(json.JSONDecodeError):
        events[1].json()


async def test_eventsource_stops_reconnecting_once_it_has_the_terminal_frame(node, resumable):
    # EventSource reconnects whenever a response ends, with the last id it saw; the 204 that
    # answers the terminal frame's id is the SSE spec's "stop reconnecting".
    first = await resumable.post("/v1/streaming_query", json=QUESTION)
    await first.read()
    stream_id = first.headers["X-Stream-ID"]
    whole = await whole_stream(resumable, stream_id)
    base = str(resumable.make_url("")).rstrip("/")
    result = await run(
        node,
        "eventsource_resume.mjs",
        url=f"{base}/v1/streams/{stream_id}",
        maxRequests=3,
        graceMs=500,
    )
    assert result["requests"] == [
        {"lastEventId": None, "status": 200},
        {"lastEventId": whole.events[-1].id, "status": 204},
    ]
    assert result["messages"] == [{"id": e.id, "data": e.data} for e in whole.events]
    assert result["errors"] == [{"code": None, "readyState": 0}, {"code": 204, "readyState": 2}]
    assert result["readyState"] == 2
