"""`POST /v1/responses` (OpenAI's Responses API) over one agent turn, and its resume by id."""

from __future__ import annotations

from aiohttp import web

from formatters.events import Event
from formatters.responses import ResponseBuilder, ResponsesFormatter, parse_response_id
from service.chat_request import UnsupportedRequest
from service.errors import Rejected
from service.non_streamed import answer_turn
from service.request_body import read_json
from service.responses_request import ResponsesRequest
from service.resume.ids import is_stream_id, new_stream_id
from service.resume.manager import RESUMER, StreamNotFound
from service.resume.routes import query_sequence
from service.routes import stream_turn
from service.state import ACTIVE_STREAMS, SETTINGS

responses_routes = web.RouteTableDef()
RESPONSES_PATHS = ("/v1/responses", "/v1/responses/{response_id}")
"""The routes whose errors take OpenAI's shape (service/openai_errors.py)."""


class ResponsesFold:
    """Folds a turn's events into one `response` object, as `responses.stream` assembles it."""

    def __init__(self, builder: ResponseBuilder) -> None:
        self.builder = builder

    def take(self, event: Event) -> None:
        """Fold one event in."""
        self.builder.payloads(event)


@responses_routes.post("/v1/responses")
async def create_response(request: web.Request) -> web.StreamResponse:
    """Answer a Responses request: its SSE events with `stream`, else one `response` object."""
    body = await read_json(request, ResponsesRequest)
    try:
        query = body.to_query()
    except UnsupportedRequest as exc:
        raise Rejected(400, "Unsupported request", exc.cause) from exc
    app = request.app
    stream_id = new_stream_id()
    formatter = ResponsesFormatter(
        model=body.model,
        stream_id=stream_id,
        instructions=body.instructions,
        previous_response_id=body.previous_response_id,
    )
    with app[ACTIVE_STREAMS].slot(app[SETTINGS].max_concurrent_streams):
        if body.stream:
            return await stream_turn(request, query, formatter, stream_id=stream_id)
        fold = ResponsesFold(formatter.builder)
        failed = await answer_turn(request, query, fold, "response")
    if failed is not None:
        return failed
    assert fold.builder.final is not None, "a turn read whole ends with its end event"
    return web.json_response(fold.builder.final)


@responses_routes.get("/v1/responses/{response_id}")
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

