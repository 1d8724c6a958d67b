"""Optional OpenTelemetry tracing (the `otel` extra): a span per request, child spans upstream."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from service.keys import REQUEST_ID, TRACER
from service.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor

log = structlog.get_logger(__name__)

SERVICE_NAME = "agent-stream-gateway"


class SpanLike(Protocol):
    """The part of a span the routes use: attributes."""

    def set_attribute(self, key: str, value: str | bool | int | float) -> None:
        """Set one attribute on the span."""


class _NoSpan:
    """What `span` yields when tracing is off: attributes go nowhere."""

    def set_attribute(self, key: str, value: str | bool | int | float) -> None:
        """Drop the attribute."""


def configure_tracing(app: web.Application, settings: Settings) -> None:
    """Export spans to `OTEL_EXPORTER_OTLP_ENDPOINT` if it is set; otherwise trace nothing."""
    endpoint = settings.otel_exporter_otlp_endpoint
    if not endpoint:
        return
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but tracing is not installed; no spans are sent "
            "(install agent-stream-gateway[otel])"
        )
        return
    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
    trace_with(app, BatchSpanProcessor(exporter))
    log.info("tracing on", endpoint=endpoint)


def trace_with(app: web.Application, processor: SpanProcessor) -> None:
    """Trace this app's requests into `processor`, with a tracer provider of the app's own."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": SERVICE_NAME}
    provider = TracerProvider(resource=Resource.create(named))
    provider.add_span_processor(processor)
    app[TRACER] = provider.get_tracer("service")

    async def shut_down(app: web.Application) -> None:
        await asyncio.to_thread(provider.shutdown)  # flushes to the exporter: keep the loop free

    app.on_cleanup.append(shut_down)


@web.middleware
async def trace_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Wrap each request in a server span continuing the caller's `traceparent`, if tracing."""
    tracer = request.app.get(TRACER)
    if tracer is None:
        return await handler(request)
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind, Status, StatusCode

    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    with tracer.start_as_current_span(
        f"{request.method} {route}",
        context=extract(request.headers),
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": request.method,
            "http.route": route,
            "url.path": request.path,
            "request.id": request.get(REQUEST_ID, ""),
        },
    ) as server_span:
        response = await handler(request)
        server_span.set_attribute("http.response.status_code", response.status)
        if response.status >= 500:
            server_span.set_status(Status(StatusCode.ERROR))
        return response


@contextlib.contextmanager
def span(
    request: web.Request, name: str, *, client: bool = False, **attributes: str
) -> Iterator[SpanLike]:
    """Open a child span of the request's span (a client span for upstream calls), if tracing."""
    tracer = request.app.get(TRACER)
    if tracer is None:
        yield _NoSpan()
        return
    from opentelemetry.trace import SpanKind

    kind = SpanKind.CLIENT if client else SpanKind.INTERNAL
    with tracer.start_as_current_span(name, kind=kind, attributes=attributes) as opened:
        yield opened
