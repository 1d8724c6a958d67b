"""`GET /metrics`: what streams and refused requests did, in the app's own Prometheus registry."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from fakes.agents_upstream import Sleep, Status, fixture_steps
from service.http.app import create_app
from service.keys import REGISTRY
from service.observability.metrics import ACTIVE_STREAMS_METRIC, REJECTION_REASONS
from service.resume.outcomes import STREAM_OUTCOMES as OUTCOMES
from service.settings import Settings
from tests.conftest import NON_STREAMED_ANSWERS, split_frames

P = "agent_stream_gateway"
QUERY = {"query": "Say hello."}
SILENCE = 0.3
"""The fake upstream says nothing this long before the first event."""


async def scrape(client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Parse `/metrics` of a test client or a client session into {(name, labels): value}."""
    response = await client.get("/metrics")
    assert response.status == 200
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    found: float = samples[(name, frozenset(labels.items()))]
    return found


async def wait_for(client, name: str, expected: float, **labels: str) -> dict[Any, float]:
    for _ in range(100):
        samples = await scrape(client)
        if value(samples, name, **labels) == expected:
            return samples
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"{name}{labels} never reached {expected}: {value(samples, name, **labels)}"
    )


async def test_one_stream_of_each_format_moves_every_stream_metric(agents_client, fake_agents):
    fake_agents.steps = [Sleep(SILENCE), *fixture_steps("text.sse")]
    client = await agents_client(heartbeat_interval=0.1)
    names = client.server.app[REGISTRY].names()
    assert len(names) >= 1
    frames = {}
    for name in names:
        response = await client.post(f"/v1/streaming_query?format={name}", json=QUERY)
        assert response.status == 200
        frames[name] = split_frames(await response.read())
    samples = await scrape(client)
    for name in names:
        assert value(samples, f"{P}_streams_total", format=name, outcome="completed") == 1
        for outcome in OUTCOMES:
            if outcome != "completed":
                assert value(samples, f"{P}_streams_total", format=name, outcome=outcome) == 0
        assert value(samples, f"{P}_frames_total", format=name) == len(frames[name])
        assert value(samples, f"{P}_heartbeats_total", format=name) >= 1
        assert value(samples, ACTIVE_STREAMS_METRIC, format=name) == 0
        assert value(samples, f"{P}_stream_duration_seconds_count", format=name) == 1
        assert value(samples, f"{P}_stream_duration_seconds_sum", format=name) >= SILENCE / 2
        first = f"{P}_upstream_first_event_seconds"
        assert value(samples, f"{first}_count", format=name) == 1
        assert value(samples, f"{first}_sum", format=name) >= SILENCE
        assert value(samples, f"{first}_bucket", format=name, le="0.25") == 0
        assert value(samples, f"{first}_bucket", format=name, le="+Inf") == 1


async def test_heartbeats_counted_are_the_heartbeat_frames_sent(agents_client, fake_agents):
    fake_agents.steps = [Sleep(SILENCE), *fixture_steps("text.sse")]
    client = await agents_client(heartbeat_interval=0.1)
    response = await client.post("/v1/streaming_query?format=patternfly", json=QUERY)
    frames = split_frames(await response.read())
    sent = [f for f in frames if json.loads(f.removeprefix("data: "))["event"] == "heartbeat"]
    samples = await scrape(client)
    assert len(sent) >= 1
    assert value(samples, f"{P}_heartbeats_total", format="patternfly") == len(sent)


@pytest.fixture
async def production_server(agents_server, unused_tcp_port):
    """The service as `python -m service` runs it: handlers are not cancelled on disconnect."""
    settings = Settings(
        llama_stack_base_url=str(agents_server.make_url("/")),
        llama_stack_api="agents",
        heartbeat_interval=0.1,
    )
    runner = web.AppRunner(create_app(settings), handler_cancellation=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    async with aiohttp.ClientSession(f"http://127.0.0.1:{unused_tcp_port}") as session:
        yield session
    await runner.cleanup()


async def test_active_streams_gauge_counts_an_open_stream_until_the_client_leaves(
    production_server, fake_agents
):
    fake_agents.steps = [*fixture_steps("text.sse")[:2], Sleep(30)]
    response = await production_server.post("/v1/streaming_query", json=QUERY)
    await response.content.readuntil(b"\n\n")
    samples = await scrape(production_server)
    assert value(samples, ACTIVE_STREAMS_METRIC, format="patternfly") == 1
    response.close()
    samples = await wait_for(
        production_server, f"{P}_streams_total", 1, format="patternfly", outcome="client_gone"
    )
    assert value(samples, ACTIVE_STREAMS_METRIC, format="patternfly") == 0


async def test_a_cancelled_stream_is_counted_as_cancelled(agents_client, fake_agents):
    fake_agents.steps = [*fixture_steps("text.sse")[:2], Sleep(30)]
    client = await agents_client(heartbeat_interval=0.1)
    response = await client.post("/v1/streaming_query", json=QUERY)
    await response.content.readuntil(b"\n\n")
    response.close()
    samples = await wait_for(
        client, f"{P}_streams_total", 1, format="patternfly", outcome="cancelled"
    )
    assert value(samples, ACTIVE_STREAMS_METRIC, format="patternfly") == 0
    assert value(samples, f"{P}_stream_duration_seconds_count", format="patternfly") == 1


async def test_refused_requests_are_counted_by_reason(agents_client, fake_agents):
    client = await agents_client(max_body_bytes=1000)
    await client.post("/v1/streaming_query?format=nope", json=QUERY)
    await client.post("/v1/streaming_query", data=b"query", headers={"Content-Type": "text/plain"})
    await client.post("/v1/streaming_query", json={"query": ""})
    await client.post("/v1/streaming_query", json={"query": "x" * 2000})
    await client.get("/v1/nowhere")
    await client.get("/v1/streaming_query")
    fake_agents.steps = [Status(500)]
    assert (await client.post("/v1/streaming_query", json=QUERY)).status == 503
    samples = await scrape(client)
    counted = {
        reason: value(samples, f"{P}_rejected_requests_total", reason=reason)
        for reason in REJECTION_REASONS.values()
    }
    assert counted == {
        "bad_format": 1,
        "unauthorized": 0,
        "not_found": 1,
        "method_not_allowed": 1,
        "too_large": 1,
        "unsupported_media_type": 1,
        "invalid_body": 1,
        "too_many_streams": 0,
        "upstream_unavailable": 1,
    }


async def test_too_many_streams_is_counted(agents_client, fake_agents):
    fake_agents.steps = [*fixture_steps("text.sse")[:2], Sleep(30)]
    client = await agents_client(max_concurrent_streams=1, heartbeat_interval=0.1)
    first = await client.post("/v1/streaming_query", json=QUERY)
    await first.content.readuntil(b"\n\n")
    assert (await client.post("/v1/streaming_query", json=QUERY)).status == 429
    samples = await scrape(client)
    first.close()
    assert value(samples, f"{P}_rejected_requests_total", reason="too_many_streams") == 1


async def test_an_unready_upstream_on_the_readiness_probe_is_not_a_refusal(
    agents_client, fake_agents
):
    fake_agents.health_status = 500
    client = await agents_client(readiness_cache_seconds=0)
    assert (await client.get("/readiness")).status == 503
    samples = await scrape(client)
    assert value(samples, f"{P}_rejected_requests_total", reason="upstream_unavailable") == 0


async def test_every_series_exists_at_zero_before_the_first_stream(make_client):
    client = await make_client()
    samples = await scrape(client)
    for name in client.server.app[REGISTRY].names():
        assert value(samples, ACTIVE_STREAMS_METRIC, format=name) == 0
        for outcome in OUTCOMES:
            assert value(samples, f"{P}_streams_total", format=name, outcome=outcome) == 0
    assert value(samples, "process_resident_memory_bytes") > 0


async def test_a_stream_s_end_is_counted_under_exactly_these_outcomes(make_client):
    client = await make_client()
    samples = await scrape(client)
    outcomes = {
        dict(labels)["outcome"]
        for name, labels in samples
        if name == f"{P}_streams_total" and ("format", "patternfly") in labels
    }
    assert outcomes == {
        "completed", "upstream_error", "client_gone", "client_stalled", "timeout", "drained",
        "interrupted", "abandoned", "too_large", "store_failed", "cancelled",
    }  # fmt: skip


async def test_each_app_counts_only_its_own_streams(make_client):
    first, second = await make_client(), await make_client()
    await (await first.post("/v1/streaming_query", json=QUERY)).read()
    counted = [
        value(await scrape(client), f"{P}_streams_total", format="patternfly", outcome="completed")
        for client in (first, second)
    ]
    assert counted == [1, 0]


async def test_metrics_are_prometheus_text_or_openmetrics_when_asked(make_client):
    client = await make_client()
    plain = await client.get("/metrics")
    assert plain.headers["Content-Type"].startswith("text/plain; version=")
    assert f"# TYPE {ACTIVE_STREAMS_METRIC} gauge\n" in await plain.text()
    open_metrics = await client.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert open_metrics.headers["Content-Type"].startswith("application/openmetrics-text")
    assert (await open_metrics.text()).endswith("# EOF\n")


@pytest.mark.parametrize(("path", "body", "label"), NON_STREAMED_ANSWERS)
async def test_a_non_streamed_answer_is_counted_as_a_stream_of_its_label(
    agents_client, fake_agents, path, body, label
):
    fake_agents.steps = [Sleep(SILENCE), *fixture_steps("text.sse")]
    client = await agents_client()
    before = await scrape(client)
    assert value(before, f"{P}_streams_total", format=label, outcome="completed") == 0
    response = await client.post(path, json=body)
    assert response.status == 200
    await response.read()
    samples = await scrape(client)
    assert value(samples, f"{P}_streams_total", format=label, outcome="completed") == 1
    for outcome in OUTCOMES:
        if outcome != "completed":
            assert value(samples, f"{P}_streams_total", format=label, outcome=outcome) == 0
    assert value(samples, ACTIVE_STREAMS_METRIC, format=label) == 0
    assert value(samples, f"{P}_frames_total", format=label) == 0
    assert value(samples, f"{P}_stream_duration_seconds_count", format=label) == 1
    first = f"{P}_upstream_first_event_seconds"
    assert value(samples, f"{first}_count", format=label) == 1
    assert value(samples, f"{first}_sum", format=label) >= SILENCE / 2  # the upstream's silence
    assert value(samples, f"{first}_bucket", format=label, le="0.1") == 0


async def test_a_non_streamed_answer_counts_in_the_active_streams_gauge_while_it_runs(
    production_server, fake_agents
):
    fake_agents.steps = [*fixture_steps("text.sse")[:2], Sleep(30)]
    ((path, body, label), _) = NON_STREAMED_ANSWERS
    answering = asyncio.create_task(production_server.post(path, json=body))
    await wait_for(production_server, ACTIVE_STREAMS_METRIC, 1, format=label)
    answering.cancel()  # the client leaves; the turn is cancelled within one interval
    samples = await wait_for(
        production_server, f"{P}_streams_total", 1, format=label, outcome="client_gone"
    )
    assert value(samples, ACTIVE_STREAMS_METRIC, format=label) == 0
