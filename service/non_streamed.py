"""A non-streamed turn: started (503 if it cannot), read whole into a fold, errors mapped."""

from __future__ import annotations

import structlog
from aiohttp import web

from service.completion import Fold, complete_turn
from service.conversations.owners import request_owner
from service.errors import error_response, refusal
from service.pipeline import Outcome
from service.request_models import QueryRequest
from service.state import ACTIVE_STREAMS, SETTINGS, UPSTREAM
from service.upstream import UpstreamUnavailable

log = structlog.get_logger(__name__)

_ERROR_STATUS = {"timeout": 504, "internal": 500}
"""HTTP status of a non-streamed answer whose turn failed, by error code; otherwise 502."""

UNAVAILABLE = refusal("The upstream could not start the turn.")
"""What `unavailable` answers."""
TURN_FAILED = {
    500: refusal("The agent turn failed inside the service."),
    502: refusal("The agent turn failed after it started."),
    504: refusal("The agent turn ran out of time (STREAM_TIMEOUT)."),
}
"""What `answer_turn` answers when the turn fails after it started."""


async def answer_turn(
    request: web.Request, query: QueryRequest, fold: Fold, label: str
) -> web.Response | None:
    """Run the caller's turn into `fold`; return the error response if it failed, else None.

    The caller holds the stream slot; `label` names the answer's kind in the logs.
    """
    app = request.app
    settings = app[SETTINGS]
    structlog.contextvars.bind_contextvars(format=label)
    try:
        turn = await app[UPSTREAM].start_turn(query, owner=request_owner(request))
    except UpstreamUnavailable as exc:
        return unavailable(exc)
    structlog.contextvars.bind_contextvars(conversation_id=turn.conversation_id)
    result = await complete_turn(
        turn,
        fold,
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
    if result.error is not None:
        status = _ERROR_STATUS.get(result.error.code, 502)
        return error_response(status, "The agent turn failed", result.error.message)
    return None


def unavailable(exc: UpstreamUnavailable) -> web.Response:
    """Log why the upstream is unavailable and answer 503 with the reason (never an address)."""
    log.warning("upstream unavailable", reason=exc.reason, detail=exc.detail)
    return error_response(503, "Unable to connect to Llama Stack", exc.reason)


def _closed(request: web.Request) -> bool:
    """Tell whether the client has closed the request's connection."""
    transport = request.transport
    return transport is None or transport.is_closing()
