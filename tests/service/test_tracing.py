"""OpenTelemetry tracing: off unless configured; a server span per request, children upstream."""

from __future__ import annotations

import pytest
from aiohttp import web

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

from fakes.agents_upstream import Status, fixture_steps
from service.http.app import create_app
from service.keys import TRACER
from service.observability.tracing import trace_with
from service.settings import Settings
from tests.conftest import NON_STREAMED_ANSWERS

QUERY = {"query": "Say hello."}
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest.fixture
def traced_client(aiohttp_client, agents_server):
    """The service in front of the fake Agents upstream, tracing into an in-memory exporter."""
    exporter = InMemorySpanExporter()

    async def make():
        settings = Settings(
            llama_stack_base_url=str(agents_server.make_url("/")), llama_stack_api="agents"
        )
        app = create_app(settings)
        trace_with(app, SimpleSpanProcessor(exporter))
        return await aiohttp_client(app), exporter

    return make


async def test_tracing_is_off_unless_an_endpoint_is_configured(make_client):
    client = await make_client()
    assert TRACER not in client.server.app
    response = await client.post("/v1/streaming_query", json=QUERY)
    assert response.status == 200
    await response.read()


async def test_a_stream_is_a_server_span_with_upstream_and_stream_children(
    traced_client, fake_agents
):
    fake_agents.steps = fixture_steps("text.sse")
    client, exporter = await traced_client()
    response = await client.post(
        "/v1/streaming_query?format=patternfly",
        json=QUERY,
        headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01", "X-Request-ID": "req-1"},
    )
    await response.read()
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"POST /v1/streaming_query", "upstream start_turn", "stream"}
    server, upstream, stream = (
        spans["POST /v1/streaming_query"],
        spans["upstream start_turn"],
        spans["stream"],
    )
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert format(server.parent.span_id, "016x") == PARENT_ID
    assert server.kind == SpanKind.SERVER
    assert upstream.kind == SpanKind.CLIENT
    assert upstream.parent.span_id == server.context.span_id
    assert stream.parent.span_id == server.context.span_id
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["http.route"] == "/v1/streaming_query"
    assert server.attributes["request.id"] == "req-1"
    assert upstream.attributes["upstream"] == "agents"
    assert stream.attributes["format"] == "patternfly"
    assert stream.attributes["stream.outcome"] == "completed"
    assert stream.attributes["stream.frames"] == 13  # patternfly sends no empty tokens
    assert upstream.end_time <= stream.start_time


async def test_an_upstream_that_cannot_start_is_an_error_span(traced_client, fake_agents):
    fake_agents.steps = [Status(500)]
    client, exporter = await traced_client()
    assert (await client.post("/v1/streaming_query", json=QUERY)).status == 503
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"POST /v1/streaming_query", "upstream start_turn"}
    assert spans["upstream start_turn"].status.status_code == StatusCode.ERROR
    assert spans["POST /v1/streaming_query"].attributes["http.response.status_code"] == 503


async def test_a_configured_endpoint_gets_the_spans_over_otlp_http(aiohttp_server, make_client):
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    received: list[tuple[str, str, bytes]] = []

    async def collect(request: web.Request) -> web.Response:
        received.append((request.path, request.content_type, await request.read()))
        return web.Response(status=200)

    collector = web.Application()
    collector.router.add_post("/v1/traces", collect)
    collector_server = await aiohttp_server(collector)
    client = await make_client(otel_exporter_otlp_endpoint=str(collector_server.make_url("/")))
    assert TRACER in client.server.app
    assert (await client.get("/liveness")).status == 200
    assert received == []  # spans go out in batches, at the latest when the app stops
    await client.close()
    ((path, content_type, body),) = received
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    assert b"GET /liveness" in body


@pytest.mark.parametrize(("path", "body", "label"), NON_STREAMED_ANSWERS)
async def test_a_non_streamed_answer_is_a_server_span_with_upstream_and_stream_children(
    traced_client, fake_agents, path, body, label
):
    fake_agents.steps = fixture_steps("text.sse")
    client, exporter = await traced_client()
    response = await client.post(path, json=body)
    assert response.status == 200
    await response.read()
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {f"POST {path}", "upstream start_turn", "stream"}
    server, upstream, stream = spans[f"POST {path}"], spans["upstream start_turn"], spans["stream"]
    assert upstream.kind == SpanKind.CLIENT
    assert upstream.parent.span_id == server.context.span_id
    assert stream.parent.span_id == server.context.span_id
    assert upstream.attributes["upstream"] == "agents"
    assert dict(stream.attributes) == {
        "format": label,
        "stream.outcome": "completed",
        "stream.frames": 0,
    }
    assert upstream.end_time <= stream.start_time
