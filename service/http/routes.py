"""HTTP routes: the streaming query, the format list, and the probes."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, RootModel

from formatters.events import event_json_schema
from formatters.plain_text import MEDIA_TYPE as PLAIN_TEXT
from formatters.plain_text import PlainTextFormatter
from service.approvals.desk import APPROVAL_REFUSALS
from service.conversations.owners import NO_CONVERSATION
from service.errors import Rejected, refusal
from service.http.models.query import QueryRequest
from service.http.query_body import read_query
from service.keys import ACTIVE_STREAMS, REGISTRY, RESUMER, UPSTREAM
from service.resume.follower import NOTHING_AFTER
from service.resume.limits import TOO_MANY_FOLLOWERS
from service.resume.manager import LAST_EVENT_ID, STORE_UNAVAILABLE, STREAM_ID, STREAM_NOT_FOUND
from service.route_spec import FORMAT_NAME, Answer, declare, resumable
from service.streams.non_streamed import UNAVAILABLE
from service.streams.registry import DEFAULT_FORMAT, UnknownFormat
from service.streams.session import StreamSession
from service.streams.state import SLOT_REFUSALS

routes = web.RouteTableDef()


class StreamQuery(BaseModel):
    """The query parameters of `POST /v1/streaming_query`."""

    format: str = Field(
        default=DEFAULT_FORMAT,
        description="A format's name or alias (`GET /v1/formats`).",
        json_schema_extra=FORMAT_NAME,
    )


UNKNOWN_FORMAT = refusal("Unknown format (the cause names the installed ones).")


@routes.post("/v1/streaming_query")
@declare(
    "Stream one agent turn as SSE in the chosen format.",
    {
        200: Answer(
            "The turn as SSE frames in the chosen format; with `media_type: text/plain`, the"
            " answer's text alone.",
            content={PLAIN_TEXT: {"type": "string"}},
            stream=True,
            headers=STREAM_ID,
        ),
        204: NOTHING_AFTER,
        400: UNKNOWN_FORMAT,
        404: STREAM_NOT_FOUND,
        503: UNAVAILABLE,
    },
    {404: NO_CONVERSATION, 429: TOO_MANY_FOLLOWERS, 503: STORE_UNAVAILABLE},
    APPROVAL_REFUSALS,
    SLOT_REFUSALS,
    body=QueryRequest,
    query=StreamQuery,
    headers={"Last-Event-ID": replace(LAST_EVENT_ID, when=resumable)},
)
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
    query = await read_query(request)
    if query.media_type == PLAIN_TEXT:
        formatter_class = PlainTextFormatter
    with StreamSession(request) as session:
        return await session.stream(query.to_turn(), formatter_class())


@routes.get("/v1/events/schema")
@declare(
    "JSON Schema of the normalized events (what the `raw` format sends).",
    {200: Answer("A JSON Schema.", content={"application/json": {"type": "object"}})},
)
async def events_schema(request: web.Request) -> web.Response:
    """Publish the JSON Schema of the normalized events (what the `raw` format sends)."""
    return web.json_response(event_json_schema())


class FormatDescription(BaseModel):
    """One installed format, as `GET /v1/formats` lists it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    aliases: list[str]
    media_type: str
    description: str


class FormatList(RootModel[list[FormatDescription]]):
    """The installed formats."""


@routes.get("/v1/formats")
@declare("List the installed formats.", {200: Answer("The installed formats.", FormatList)})
async def formats(request: web.Request) -> web.Response:
    """List the installed formats."""
    listed = FormatList(
        [
            FormatDescription(
                name=info.name,
                aliases=list(info.aliases),
                media_type=info.media_type,
                description=info.description,
            )
            for info in request.app[REGISTRY].describe()
        ]
    )
    return web.json_response(listed.model_dump(mode="json"))


class _Probe(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Alive(_Probe):
    """The event loop runs."""

    alive: Literal[True]


class Ready(_Probe):
    """The upstream answers."""

    ready: Literal[True]


class NotReady(_Probe):
    """Not ready, and why."""

    ready: Literal[False]
    reason: str


@routes.get("/liveness")
@declare(
    "Answers while the event loop runs; never asks the upstream.", {200: Answer("Alive.", Alive)}
)
async def liveness(request: web.Request) -> web.Response:
    """Answer while the event loop runs; never asks the upstream."""
    return web.json_response(Alive(alive=True).model_dump())


@routes.get("/readiness")
@declare(
    "Whether the upstream answers (cached briefly); 503 while draining.",
    {200: Answer("Ready.", Ready), 503: Answer("Not ready, and why.", NotReady)},
)
async def readiness(request: web.Request) -> web.Response:
    """Answer 200 once the upstream answers, 503 with the reason otherwise (or when draining)."""
    if request.app[ACTIVE_STREAMS].draining:
        return web.json_response(NotReady(ready=False, reason="draining").model_dump(), status=503)
    answer = await request.app[UPSTREAM].readiness()
    if answer.ready:
        return web.json_response(Ready(ready=True).model_dump())
    return web.json_response(NotReady(ready=False, reason=answer.reason).model_dump(), status=503)
