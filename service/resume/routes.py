"""Routes of resumable streams: follow a stream by id, and interrupt a turn."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from service.errors import Rejected
from service.request_body import read_json
from service.request_models import NonBlank
from service.resume.ids import parse_event_id
from service.resume.manager import RESUMER, StreamNotFound

resume_routes = web.RouteTableDef()


class InterruptRequest(BaseModel):
    """Body of `POST /v1/streaming_query/interrupt` (lightspeed-stack's shape)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    request_id: NonBlank = Field(description="The stream id (`X-Stream-ID`) of the turn to stop.")


@resume_routes.get("/v1/streams/{stream_id}")
async def follow_stream(request: web.Request) -> web.StreamResponse:
    """Replay a stream after `Last-Event-ID` (or `?after=<seq>`), then follow it live."""
    resumer = request.app.get(RESUMER)
    if resumer is None:
        raise StreamNotFound()
    stream_id = request.match_info["stream_id"]
    return await resumer.follow_stream(request, stream_id, _after(request, stream_id))


@resume_routes.post("/v1/streaming_query/interrupt")
async def interrupt(request: web.Request) -> web.Response:
    """Stop a running turn by its stream id; 404 if it is not running (or not the caller's)."""
    body = await read_json(request, InterruptRequest)
    resumer = request.app.get(RESUMER)
    if resumer is None:
        raise StreamNotFound()
    await resumer.interrupt(request, body.request_id)
    return web.json_response(
        {
            "request_id": body.request_id,
            "interrupted": True,
            "message": "Streaming request interrupted",
        }
    )


def _after(request: web.Request, stream_id: str) -> int:
    """Return the sequence to resume after: this stream's `Last-Event-ID`, `?after=`, or -1."""
    header = request.headers.get("Last-Event-ID")
    if header:
        parsed = parse_event_id(header)
        if parsed is not None and parsed[0] == stream_id:
            return parsed[1]
    return query_sequence(request, "after", status=422)


def query_sequence(request: web.Request, name: str, *, status: int) -> int:
    """Return the frame sequence the query parameter `name` holds, -1 if absent.

    Anything else is refused with `status`.
    """
    try:
        value = int(request.query.get(name, "-1"))
    except ValueError:
        value = -2
    if value < -1:
        raise Rejected(status, "Invalid request", f"{name}: must be a frame sequence (0 or more)")
    return value
