"""`POST /v1/chat/completions`: an OpenAI-compatible request runs one agent turn."""

from __future__ import annotations

import structlog
from aiohttp import web

from formatters.openai import OpenAIFormatter
from service.chat_request import ChatCompletionRequest, UnsupportedRequest
from service.completion import complete_turn
from service.conversations.owners import request_owner
from service.errors import Rejected, error_response
from service.pipeline import Outcome
from service.request_body import read_json
from service.request_models import QueryRequest
from service.routes import stream_turn
from service.state import ACTIVE_STREAMS, SETTINGS, UPSTREAM
from service.upstream import UpstreamUnavailable

log = structlog.get_logger(__name__)
chat_routes = web.RouteTableDef()

_ERROR_STATUS = {"timeout": 504, "internal": 500}
"""HTTP status of a non-streamed answer whose turn failed, by error code; otherwise 502."""


@chat_routes.post("/v1/chat/completions")
async def chat_completions(request: web.Request) -> web.StreamResponse:
    """Answer an OpenAI chat request: `openai` SSE chunks with `stream`, else one JSON object."""
    body = await read_json(request, ChatCompletionRequest)
    try:
        query = body.to_query()
    except UnsupportedRequest as exc:
        raise Rejected(422, "Unsupported request", exc.cause) from exc
    app = request.app
    with app[ACTIVE_STREAMS].slot(app[SETTINGS].max_concurrent_streams):
        if body.stream:
            formatter = OpenAIFormatter(model=body.model, include_usage=body.include_usage)
            return await stream_turn(request, query, formatter)
        return await _complete(request, query, body.model)


async def _complete(request: web.Request, query: QueryRequest, model: str) -> web.Response:
    app = request.app
    settings = app[SETTINGS]
    structlog.contextvars.bind_contextvars(format="chat.completion")
    try:
        turn = await app[UPSTREAM].start_turn(query, owner=request_owner(request))
    except UpstreamUnavailable as exc:
        log.warning("upstream unavailable", reason=exc.reason, detail=exc.detail)
        return error_response(503, "Unable to connect to Llama Stack", exc.reason)
    structlog.contextvars.bind_contextvars(conversation_id=turn.conversation_id)
    result = await complete_turn(
        turn,
        model,
        client_gone=lambda: _closed(request),
        check_every=settings.heartbeat_interval,
        stream_timeout=settings.stream_timeout,
        stop=app[ACTIVE_STREAMS].stop_signal(),
    )
    log.info(
        "completion end",
        outcome=result.outcome.value,
        first_event_seconds=result.first_event_seconds,
    )
    if result.outcome is Outcome.CLIENT_GONE:
        return web.Response(status=499)  # nginx's "client closed request"; nobody reads it
    error = result.completion.error
    if error is not None:
        status = _ERROR_STATUS.get(str(error["code"]), 502)
        return error_response(status, "The agent turn failed", str(error["message"]))
    return web.json_response(result.completion.completion())


def _closed(request: web.Request) -> bool:
    """Tell whether the client has closed the request's connection."""
    transport = request.transport
    return transport is None or transport.is_closing()
