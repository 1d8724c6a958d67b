"""`POST /v1/responses` (OpenAI's Responses API) over one agent turn, and its resume by id."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from formatters.responses import ResponsesFormatter, parse_response_id
from service.approvals.desk import APPROVAL_REFUSALS
from service.conversations.owners import NO_CONVERSATION
from service.errors import Rejected, refusal
from service.http.models.chat import UnsupportedRequest
from service.http.models.responses import ResponsesRequest
from service.http.openai_errors import OPENAI_ERRORS
from service.http.request_body import read_json
from service.http.resume_routes import query_sequence
from service.keys import RESUMER
from service.resume.follower import NOTHING_AFTER
from service.resume.ids import is_stream_id, new_stream_id
from service.resume.limits import TOO_MANY_FOLLOWERS
from service.resume.manager import STORE_UNAVAILABLE, STREAM_NOT_FOUND, StreamNotFound
from service.route_spec import Answer, ServerSentEvent, always, declare
from service.streams.non_streamed import RESPONSE, TURN_FAILED, UNAVAILABLE, answer_turn
from service.streams.session import StreamSession
from service.streams.state import SLOT_REFUSALS

responses_routes = web.RouteTableDef()


class RetrieveQuery(BaseModel):
    """The query parameters of `GET /v1/responses/{response_id}`."""

    stream: Literal["true"] = Field(
        description="Required: a response is kept as its event stream, and streamed again."
    )
    starting_after: int = Field(
        default=-1, ge=-1, description="Replay the events after this sequence number."
    )


class ResponseObject(BaseModel):
    """A `response` object, as the Responses API answers it (its keys as `responses` builds)."""

    model_config = ConfigDict(extra="allow")

    id: str
    object: str
    status: str


@responses_routes.post("/v1/responses")
@declare(
    "OpenAI Responses over one agent turn.",
    {
        200: Answer(
            "With `stream: true` the `responses` SSE format, else one `response` object.",
            ResponseObject,
            content={"text/event-stream": ServerSentEvent},
        ),
        400: refusal("A request an agent turn cannot answer (the cause names the fields)."),
        404: NO_CONVERSATION.but(when=always),
        503: UNAVAILABLE,
    },
    TURN_FAILED,
    SLOT_REFUSALS,
    APPROVAL_REFUSALS,
    body=ResponsesRequest,
    errors=OPENAI_ERRORS,
)
async def create_response(request: web.Request) -> web.StreamResponse:
    """Answer a Responses request: its SSE events with `stream`, else one `response` object."""
    body = await read_json(request, ResponsesRequest)
    try:
        query = body.to_turn()
    except UnsupportedRequest as exc:
        raise Rejected(400, "Unsupported request", exc.cause) from exc
    stream_id = new_stream_id()
    formatter = ResponsesFormatter(
        model=body.model,
        stream_id=stream_id,
        instructions=body.instructions,
        previous_response_id=body.previous_response_id,
    )
    with StreamSession(request) as session:
        if body.stream:
            return await session.stream(query, formatter, stream_id=stream_id)
        builder = formatter.builder  # keeps the final `response`, as `responses.stream` does
        failed = await answer_turn(session, query, builder.payloads, RESPONSE)
    if failed is not None:
        return failed
    assert builder.final is not None, "a turn read whole ends with its end event"
    return web.json_response(builder.final)


@responses_routes.get("/v1/responses/{response_id}")
@declare(
    "Replay a streamed response's events after `starting_after`, then follow it live.",
    {
        200: Answer("The response's events after the given one, then live.", stream=True),
        204: NOTHING_AFTER,
        400: refusal("`stream` is not true, or `starting_after` is not a sequence number."),
        404: STREAM_NOT_FOUND.but(when=always),
        429: TOO_MANY_FOLLOWERS,
        503: STORE_UNAVAILABLE,
    },
    query=RetrieveQuery,
    errors=OPENAI_ERRORS,
)
async def retrieve_response(request: web.Request) -> web.StreamResponse:
    """Replay a streamed response's events after `starting_after`, then follow it live."""
    if request.query.get("stream") != "true":
        raise Rejected(
            400,
            "Unsupported request",
            "stream: only stream=true is supported: responses are kept as their event stream",
        )
    after = query_sequence(request, "starting_after", status=400)
    parsed = parse_response_id(request.match_info["response_id"])
    resumer = request.app.get(RESUMER)
    if parsed is None or not is_stream_id(parsed[0]) or resumer is None:
        raise StreamNotFound()
    return await resumer.follow_stream(request, parsed[0], after)
