"""A turn's usage: folded into `end` (completed, failed, stopped) and counted in `/metrics`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from fakes.responses_upstream import FakeResponsesUpstream, Sleep, fixture_events, sse
from formatters.events import EndEvent, Event, TextDeltaEvent, UsageEvent
from formatters.raw import RawFormatter
from service.streams.pipeline import Outcome, run_stream
from service.upstream import Turn
from tests.conftest import MakeClient, split_frames
from tests.service.test_metrics import P, scrape, value
from tests.service.test_pipeline_batches import one_by_one

QUERY = {"query": "Say hello."}
TEXT = (3, 10)
"""The usage text.sse's `response.completed` reports."""
FAILED = (5, 2)
"""The usage the failing turn below reports in its `response.failed`."""


class Writes:
    """What a stream wrote, decoded."""

    def __init__(self) -> None:
        self.data: list[bytes] = []

    async def write(self, data: bytes) -> None:
        self.data.append(data)

    def end(self) -> Any:
        """The `data` of the raw format's `end` frame (the last one)."""
        frames = split_frames(b"".join(self.data))
        assert frames[-1].startswith("event: end\n")
        return json.loads(frames[-1].split("data: ", 1)[1])


async def test_a_turn_s_usage_events_add_up_in_the_end_and_the_result() -> None:
    """Two upstream responses in one turn (a continuation): their counts add up."""
    events: list[Event] = [
        UsageEvent(chunk=0, input_tokens=5, output_tokens=2),
        TextDeltaEvent(chunk=1, text="Hi"),
        UsageEvent(chunk=2, input_tokens=7, output_tokens=1),
    ]
    writes = Writes()
    result = await run_stream(
        one_by_one(events), RawFormatter(), writes.write, heartbeat_interval=5, stream_timeout=60
    )
    assert (result.outcome, result.input_tokens, result.output_tokens) == (Outcome.COMPLETED, 12, 3)
    end = writes.end()
    assert (end["input_tokens"], end["output_tokens"]) == (12, 3)


async def test_a_stopped_stream_s_end_and_result_have_the_usage_reported_before_the_stop() -> None:
    async def then_silence() -> AsyncIterator[Event]:
        yield UsageEvent(chunk=0, input_tokens=5, output_tokens=2)
        await asyncio.sleep(60)
        yield EndEvent()  # never reached

    writes = Writes()
    turn = Turn(conversation_id="conv", events=then_silence())
    result = await run_stream(
        turn, RawFormatter(), writes.write, heartbeat_interval=5, stream_timeout=0.3
    )
    assert (result.outcome, result.input_tokens, result.output_tokens) == (Outcome.TIMEOUT, 5, 2)
    end = writes.end()
    assert (end["input_tokens"], end["output_tokens"]) == (5, 2)


def failing_turn() -> list[Any]:
    """fail-mid.sse, its `response.failed` reporting the usage FAILED (llama-stack: null)."""
    events = fixture_events("fail-mid.sse")
    assert events[-1]["type"] == "response.failed" and events[-1]["response"]["usage"] is None
    input_tokens, output_tokens = FAILED
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    events[-1]["response"]["usage"] = {**usage, "total_tokens": sum(FAILED)}
    return [sse(event) for event in events]


@pytest.fixture
async def service(make_client: MakeClient, responses_server: TestServer) -> TestClient[Any, Any]:
    return await make_client(
        llama_stack_base_url=str(responses_server.make_url("/")),
        llama_stack_api="responses",
        heartbeat_interval=1.0,
        stream_timeout=3.0,
    )


def tokens(samples: dict[Any, float], label: str) -> tuple[float, float]:
    name = f"{P}_tokens_total"
    return (
        value(samples, name, format=label, direction="input"),
        value(samples, name, format=label, direction="output"),
    )


async def test_every_format_counts_the_upstream_s_tokens_once_per_stream(
    service: TestClient[Any, Any], fake_responses: FakeResponsesUpstream
) -> None:
    """lightspeed-0.1 too, whose `end` sends the release's placeholders: the metrics count what
    the upstream reported."""
    names = ["patternfly", "lightspeed-0.1", "lightspeed-0.7", "openai", "vercel", "a2a"]
    before = await scrape(service)
    assert {tokens(before, name) for name in names} == {(0, 0)}
    fake_responses.steps = [sse(event) for event in fixture_events("text.sse")]
    for name in names:
        response = await service.post(f"/v1/streaming_query?format={name}", json=QUERY)
        assert response.status == 200
        await response.read()
    response = await service.post(
        "/v1/chat/completions",
        json={"model": "openai/fake-model", "messages": [{"role": "user", "content": "Hi"}]},
    )
    assert response.status == 200
    assert (await response.json())["usage"]["total_tokens"] == sum(TEXT)
    after = await scrape(service)
    assert {name: tokens(after, name) for name in [*names, "chat.completion"]} == dict.fromkeys(
        [*names, "chat.completion"], TEXT
    )


async def test_failed_and_timed_out_streams_count_what_was_reported_before(
    service: TestClient[Any, Any], fake_responses: FakeResponsesUpstream
) -> None:
    silent = [sse(event) for event in fixture_events("text.sse")[:3]]
    fake_responses.turns = [failing_turn(), [*silent, Sleep(30)]]
    for _ in range(2):
        response = await service.post("/v1/streaming_query?format=patternfly", json=QUERY)
        assert response.status == 200
        frames = split_frames(await response.read())
        end = json.loads(frames[-1].removeprefix("data: "))
        assert end["event"] == "end"
    samples = await scrape(service)
    stream = f"{P}_streams_total"
    assert value(samples, stream, format="patternfly", outcome="upstream_error") == 1
    assert value(samples, stream, format="patternfly", outcome="timeout") == 1
    # the timed-out Responses stream never reached its response.completed: it reported nothing
    assert tokens(samples, "patternfly") == FAILED
