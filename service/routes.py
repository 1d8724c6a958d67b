"""HTTP routes: the streaming query, the format list, and the probes."""

from __future__ import annotations

import contextlib

import structlog
from aiohttp import web
from pydantic import ValidationError

from formatters.base import Formatter
from service.errors import error_response
from service.pipeline import close_events, run_stream
from service.registry import DEFAULT_FORMAT, UnknownFormat
from service.request_models import QueryRequest
from service.state import ACTIVE_STREAMS, REGISTRY, SETTINGS, UPSTREAM
from service.upstream import UpstreamUnavailable

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()

_JSON_TYPES = {"application/json", "application/octet-stream", ""}


@routes.post("/v1/streaming_query")
async def streaming_query(request: web.Request) -> web.StreamResponse:
    """Stream one agent turn as SSE in the format named by `?format=`."""
    app = request.app
    registry, settings = app[REGISTRY], app[SETTINGS]
    format_name = request.query.get("format", DEFAULT_FORMAT)
    try:
        formatter_class = registry.get(format_name)
    except UnknownFormat:
        known = ", ".join(registry.names())
        return error_response(
            400, "Unknown format", f"'{format_name}' is not an installed format; known: {known}"
        )
    if request.content_type not in _JSON_TYPES:
        return error_response(
            415,
            "Unsupported media type",
            f"The body must be JSON (Content-Type: application/json), not {request.content_type}.",
        )
    try:
        query = QueryRequest.model_validate_json(await request.read())
    except ValidationError as exc:
        return error_response(422, "Invalid request", _validation_cause(exc))
    active = app[ACTIVE_STREAMS]
    if active.count >= settings.max_concurrent_streams:
        return error_response(
            429,
            "Too many streams",
            f"This instance serves at most {settings.max_concurrent_streams} streams at once.",
            headers={"Retry-After": "1"},
        )
    active.count += 1
    try:
        return await _stream(request, query, formatter_class())
    finally:
        active.count -= 1


async def _stream(
    request: web.Request, query: QueryRequest, formatter: Formatter
) -> web.StreamResponse:
    app = request.app
    settings = app[SETTINGS]
    structlog.contextvars.bind_contextvars(format=formatter.name)
    try:
        turn = await app[UPSTREAM].start_turn(query)
    except UpstreamUnavailable as exc:
        log.warning("upstream unavailable", reason=exc.reason)
        return error_response(503, "Unable to connect to Llama Stack", exc.reason)
    structlog.contextvars.bind_contextvars(conversation_id=turn.conversation_id)
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
    result = await run_stream(
        turn,
        formatter,
        response.write,
        heartbeat_interval=settings.heartbeat_interval,
        stream_timeout=settings.stream_timeout,
    )
    log.info(
        "stream end",
        outcome=result.outcome.value,
        frames=result.frames,
        heartbeats=result.heartbeats,
        first_event_seconds=result.first_event_seconds,
    )
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response


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
    """Answer 200 once the upstream answers, 503 with the reason otherwise."""
    answer = await request.app[UPSTREAM].readiness()
    if answer.ready:
        return web.json_response({"ready": True})
    return web.json_response({"ready": False, "reason": answer.reason}, status=503)


def _validation_cause(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "body"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)
