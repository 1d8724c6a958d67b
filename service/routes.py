"""HTTP routes: the streaming query, the format list, and the probes."""

from __future__ import annotations

from aiohttp import web

from formatters.events import event_json_schema
from service.errors import Rejected
from service.registry import DEFAULT_FORMAT, UnknownFormat
from service.request_body import read_json
from service.request_models import QueryRequest
from service.resume.manager import RESUMER
from service.session import StreamSession
from service.state import ACTIVE_STREAMS, REGISTRY, UPSTREAM

routes = web.RouteTableDef()


@routes.post("/v1/streaming_query")
async def streaming_query(request: web.Request) -> web.StreamResponse:
    """Stream one agent turn as SSE in the format named by `?format=`."""
    app = request.app
    registry = app[REGISTRY]
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
    with StreamSession(request) as session:
        return await session.stream(query, formatter_class())


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
