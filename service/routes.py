"""HTTP routes: the streaming query, the format list, and the probes."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiohttp import web

from formatters.base import Formatter
from formatters.events import event_json_schema
from service.conversations.owners import request_owner
from service.errors import Rejected
from service.metrics import CANCELLED, METRICS, Metrics
from service.non_streamed import unavailable
from service.pipeline import StreamResult, close_events, run_stream
from service.registry import DEFAULT_FORMAT, UnknownFormat
from service.request_body import read_json
from service.request_models import QueryRequest
from service.resume.manager import RESUMER
from service.state import ACTIVE_STREAMS, REGISTRY, SETTINGS, UPSTREAM
from service.tracing import span
from service.upstream import UpstreamUnavailable

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()


@routes.post("/v1/streaming_query")
async def streaming_query(request: web.Request) -> web.StreamResponse:
    """Stream one agent turn as SSE in the format named by `?format=`."""
    app = request.app
    registry, settings = app[REGISTRY], app[SETTINGS]
    resumer, last_event_id = app.get(RESUMER), request.headers.get("Last-Event-ID")
    if resumer is not None and last_event_id:
        return await resumer.resume(request, last_event_id)  # a retry: the same turn goes on
    format_name = request.query.get("format", DEFAULT_FORMAT)
    try:
        formatter_class = registry.get(format_name)
    except UnknownFormat:
        known = ", ".join(registry.names())
        raise Rejected(
            400, "Unknown format", f"'{format_name}' is not an installed format; known: {known}"
        ) from None
    query = await read_json(request, QueryRequest)
    with app[ACTIVE_STREAMS].slot(settings.max_concurrent_streams):
        return await stream_turn(request, query, formatter_class())


async def stream_turn(
    request: web.Request, query: QueryRequest, formatter: Formatter, *, stream_id: str | None = None
) -> web.StreamResponse:
    """Start one turn and stream it in `formatter`'s format (503 if it cannot start).

    With resumable streams on, `stream_id` (if given) is the stream's id in the store.
    """
    app = request.app
    settings = app[SETTINGS]
    structlog.contextvars.bind_contextvars(format=formatter.name)
    loop = asyncio.get_running_loop()
    asked_at = loop.time()
    try:
        with span(request, "upstream start_turn", client=True, upstream=app[UPSTREAM].name):
            turn = await app[UPSTREAM].start_turn(query, owner=request_owner(request))
    except UpstreamUnavailable as exc:
        return unavailable(exc)
    structlog.contextvars.bind_contextvars(conversation_id=turn.conversation_id)
    resumer = app.get(RESUMER)
    if resumer is not None:
        started = loop.time()

        def ended(result: StreamResult | None) -> None:
            duration = loop.time() - started
            _stream_ended(app[METRICS], formatter.name, result, started - asked_at, duration)

        return await resumer.start(request, turn, formatter, ended, stream_id=stream_id)
    response = web.StreamResponse(
        headers={
            "Content-Type": f"{formatter.media_type}; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            **formatter.headers,
        }
    )
    try:
        await response.prepare(request)
    except BaseException:
        await close_events(turn.events)
        raise
    log.info("stream start")
    started = loop.time()
    result: StreamResult | None = None
    try:
        with (
            span(request, "stream", format=formatter.name) as stream_span,
            app[METRICS].active_streams.labels(formatter.name).track_inprogress(),
        ):
            result = await run_stream(
                turn,
                formatter,
                response.write,
                heartbeat_interval=settings.heartbeat_interval,
                stream_timeout=settings.stream_timeout,
                write_timeout=settings.write_timeout,
                stop=app[ACTIVE_STREAMS].stop_signal(),
            )
            stream_span.set_attribute("stream.outcome", result.outcome.value)
            stream_span.set_attribute("stream.frames", result.frames)
    finally:
        _stream_ended(
            app[METRICS], formatter.name, result, started - asked_at, loop.time() - started
        )
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response


def _stream_ended(
    metrics: Metrics,
    format_name: str,
    result: StreamResult | None,
    setup_seconds: float,
    duration: float,
) -> None:
    """Log the stream's one end line and record it; no result means the handler was cancelled."""
    first_event = None
    if result is not None and result.first_event_seconds is not None:
        first_event = setup_seconds + result.first_event_seconds
    outcome = result.outcome.value if result is not None else CANCELLED
    frames = result.frames if result is not None else 0
    heartbeats = result.heartbeats if result is not None else 0
    log.info(
        "stream end",
        outcome=outcome,
        duration_seconds=round(duration, 4),
        frames=frames,
        heartbeats=heartbeats,
        first_event_seconds=None if first_event is None else round(first_event, 4),
    )
    metrics.stream_ended(
        format_name,
        outcome,
        frames=frames,
        heartbeats=heartbeats,
        duration=duration,
        first_event=first_event,
    )


@routes.get("/v1/events/schema")
async def events_schema(request: web.Request) -> web.Response:
    """Publish the JSON Schema of the normalized events (what the `raw` format sends)."""
    return web.json_response(event_json_schema())


@routes.get("/v1/formats")
async def formats(request: web.Request) -> web.Response:
    """List the installed formats."""
    return web.json_response(
        [
            {
                "name": info.name,
                "aliases": list(info.aliases),
                "media_type": info.media_type,
                "description": info.description,
            }
            for info in request.app[REGISTRY].describe()
        ]
    )


@routes.get("/liveness")
async def liveness(request: web.Request) -> web.Response:
    """Answer while the event loop runs; never asks the upstream."""
    return web.json_response({"alive": True})


@routes.get("/readiness")
async def readiness(request: web.Request) -> web.Response:
    """Answer 200 once the upstream answers, 503 with the reason otherwise (or when draining)."""
    if request.app[ACTIVE_STREAMS].draining:
        return web.json_response({"ready": False, "reason": "draining"}, status=503)
    answer = await request.app[UPSTREAM].readiness()
    if answer.ready:
        return web.json_response({"ready": True})
    return web.json_response({"ready": False, "reason": answer.reason}, status=503)
