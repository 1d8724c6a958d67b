"""`POST /v1/chat/completions`: an OpenAI-compatible request runs one agent turn."""

from __future__ import annotations

import time

import structlog
from aiohttp import web

from formatters.base import Formatter
from formatters.events import Event, HeartbeatEvent
from formatters.openai import (
    KEEP_ALIVE,
    ChunkBuilder,
    CompletionBuilder,
    OpenAIFormatter,
    new_completion_id,
)
from service.chat_request import ChatCompletionRequest, UnsupportedRequest
from service.errors import Rejected, error_response
from service.pipeline import run_stream
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
        turn = await app[UPSTREAM].start_turn(query)
    except UpstreamUnavailable as exc:
        log.warning("upstream unavailable", reason=exc.reason, detail=exc.detail)
        return error_response(503, "Unable to connect to Llama Stack", exc.reason)
    structlog.contextvars.bind_contextvars(conversation_id=turn.conversation_id)
    collector = _CompletionCollector(model)
    result = await run_stream(
        turn,
        collector,
        _discard,
        heartbeat_interval=settings.heartbeat_interval,
        stream_timeout=settings.stream_timeout,
        stop=app[ACTIVE_STREAMS].stop_signal(),
    )
    log.info(
        "completion end",
        outcome=result.outcome.value,
        first_event_seconds=result.first_event_seconds,
    )
    error = collector.completion.error
    if error is not None:
        status = _ERROR_STATUS.get(str(error["code"]), 502)
        return error_response(status, "The agent turn failed", str(error["message"]))
    return web.json_response(collector.completion.completion())


class _CompletionCollector(Formatter):
    """Assembles a turn's chunks into one `chat.completion` instead of writing them."""

    name = "chat.completion"
    description = "One non-streamed OpenAI chat.completion"

    def __init__(self, model: str) -> None:
        self._chunks = ChunkBuilder(
            completion_id=new_completion_id(),
            created=int(time.time()),
            model=model,
            include_usage=True,
        )
        self.completion = CompletionBuilder()

    def format(self, event: Event) -> list[str]:
        """Collect the event's chunks; heartbeats still "write", so the pipeline's timer resets."""
        if isinstance(event, HeartbeatEvent):
            return [KEEP_ALIVE]
        for payload in self._chunks.payloads(event):
            self.completion.add(payload)
        return []


async def _discard(data: bytes) -> None:
    """Swallow the keep-alives of a non-streamed answer."""
