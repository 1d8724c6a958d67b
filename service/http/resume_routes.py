"""Routes of resumable streams: follow a stream by id, and interrupt a turn."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from service.errors import Rejected, refusal
from service.http.models.query import NonBlank
from service.http.request_body import read_json
from service.keys import RESUMER
from service.resume.follower import NOTHING_AFTER
from service.resume.ids import parse_event_id
from service.resume.limits import TOO_MANY_FOLLOWERS
from service.resume.manager import (
    LAST_EVENT_ID,
    STORE_UNAVAILABLE,
    STREAM_ID,
    STREAM_NOT_FOUND,
    StreamNotFound,
)
from service.route_spec import Answer, always, declare

resume_routes = web.RouteTableDef()

NO_STREAM = STREAM_NOT_FOUND.but(when=always)
"""These routes look a stream up whatever the settings: with resume off, none is found."""


class InterruptRequest(BaseModel):
    """Body of `POST /v1/streaming_query/interrupt` (lightspeed-stack's shape)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    request_id: NonBlank = Field(description="The stream id (`X-Stream-ID`) of the turn to stop.")


class Interrupted(BaseModel):
    """The answer of `POST /v1/streaming_query/interrupt` (lightspeed-stack's shape)."""

    model_config = ConfigDict(extra="forbid")

    request_id: str
    interrupted: Literal[True]
    message: str


class FollowQuery(BaseModel):
    """The query parameters of `GET /v1/streams/{stream_id}`."""

    after: int = Field(
        default=-1, ge=-1, description="Resume after this frame sequence; -1: from the start."
    )


@resume_routes.get("/v1/streams/{stream_id}")
@declare(
    "Replay a resumable stream after `Last-Event-ID` (or `?after=`), then follow it.",
    {
        200: Answer(
            "The stream's frames after the given one, then live.", stream=True, headers=STREAM_ID
        ),
        204: NOTHING_AFTER,
        404: NO_STREAM,
        422: refusal("`after` is not a frame sequence."),
        429: TOO_MANY_FOLLOWERS,
        503: STORE_UNAVAILABLE,
    },
    query=FollowQuery,
    headers={"Last-Event-ID": LAST_EVENT_ID},
)
async def follow_stream(request: web.Request) -> web.StreamResponse:
    """Replay a stream after `Last-Event-ID` (or `?after=<seq>`), then follow it live."""
    resumer = request.app.get(RESUMER)
    if resumer is None:
        raise StreamNotFound()
    stream_id = request.match_info["stream_id"]
    return await resumer.follow_stream(request, stream_id, _after(request, stream_id))


@resume_routes.post("/v1/streaming_query/interrupt")
@declare(
    "Stop a running turn by its stream id (lightspeed-stack's shape).",
    {200: Answer("The turn was stopped.", Interrupted), 404: NO_STREAM, 503: STORE_UNAVAILABLE},
    body=InterruptRequest,
)
async def interrupt(request: web.Request) -> web.Response:
    """Stop a running turn by its stream id; 404 if it is not running (or not the caller's)."""
    body = await read_json(request, InterruptRequest)
    resumer = request.app.get(RESUMER)
    if resumer is None:
        raise StreamNotFound()
    await resumer.interrupt(request, body.request_id)
    answer = Interrupted(
        request_id=body.request_id, interrupted=True, message="Streaming request interrupted"
    )
    return web.json_response(answer.model_dump())


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
