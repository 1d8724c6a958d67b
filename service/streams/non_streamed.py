"""A non-streamed turn: started (503 if it cannot), read whole into a fold, errors mapped."""

from __future__ import annotations

from aiohttp import web

from formatters.base import ApprovalChannel
from service.errors import error_response, refusal
from service.streams.completion import Fold, complete_turn
from service.streams.pipeline import Outcome, StreamResult
from service.streams.session import StreamSession
from service.upstream.turn import TurnRequest

CHAT_COMPLETION = "chat.completion"
"""The label (logs, metrics, span) of a non-streamed `POST /v1/chat/completions`."""
QUERY = "query"
"""The label of a `POST /v1/query`."""
RESPONSE = "response"
"""The label of a non-streamed `POST /v1/responses`."""
MESSAGE = "message"
"""The label of a non-streamed `POST /v1/messages`."""
TASK = "task"
"""The label of an A2A `SendMessage` (its task answered whole)."""
LABELS = (CHAT_COMPLETION, QUERY, RESPONSE, MESSAGE, TASK)
"""Every label a non-streamed answer goes by."""

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
    session: StreamSession,
    query: TurnRequest,
    fold: Fold,
    label: str,
    approvals: ApprovalChannel = "request",
) -> web.Response | None:
    """Run the session's turn into `fold`; return the error response if it failed, else None.

    `label` names the answer's kind in the logs, the metrics and the span; `approvals` says how
    its client answers an approval request: "request" (the answer ends awaiting the decision,
    which the protocol's next request carries) or "none" (denied at once, the answer says so).
    """
    request, settings = session.request, session.settings
    turn = await session.start_turn(query, label, approvals)
    if isinstance(turn, web.Response):
        return turn
    session.hold()
    with session.streaming("completion") as ending, session.writing():
        result = await complete_turn(
            turn,
            fold,
            client_gone=lambda: _closed(request),
            check_every=settings.heartbeat_interval,
            stream_timeout=settings.stream_timeout,
            stop=session.stop,
        )
        ending.result = StreamResult(
            outcome=result.outcome,
            first_event_seconds=result.first_event_seconds,
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
        )
    if result.outcome is Outcome.CLIENT_GONE:
        return web.Response(status=499)  # nginx's "client closed request"; nobody reads it
    if result.error is not None:
        status = _ERROR_STATUS.get(result.error.code, 502)
        return error_response(status, "The agent turn failed", result.error.message)
    return None


def _closed(request: web.Request) -> bool:
    """Tell whether the client has closed the request's connection."""
    transport = request.transport
    return transport is None or transport.is_closing()
