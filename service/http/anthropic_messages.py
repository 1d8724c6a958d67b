"""`POST /v1/messages`: an Anthropic Messages request runs one agent turn."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from formatters.anthropic import AnthropicFormatter, MessageAssembler, MessageEvents, new_message_id
from service.conversations.owners import NO_CONVERSATION
from service.errors import Rejected, refusal
from service.http.models import checked
from service.http.models.anthropic import AnthropicErrorBody, AnthropicMessage, MessagesRequest
from service.http.models.chat import UnsupportedRequest
from service.http.request_body import read_json
from service.route_spec import Answer, ErrorDialect, ErrorParts, ServerSentEvent, declare
from service.streams.completion import assembled
from service.streams.non_streamed import MESSAGE, TURN_FAILED, UNAVAILABLE, answer_turn
from service.streams.session import StreamSession
from service.streams.state import SLOT_REFUSALS
from service.upstream.turn import TurnRequest

MESSAGES_PATH = "/v1/messages"
messages_routes = web.RouteTableDef()

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}
"""Anthropic's error type of each status; any other 5xx is an `api_error`."""
_AS_BAD_REQUEST = frozenset({408, 415, 422})
"""Refusals Anthropic's API answers as a 400 `invalid_request_error`."""


def anthropic_error(parts: ErrorParts) -> tuple[int, dict[str, Any]]:
    """Put an error in Anthropic's shape: `{"type": "error", "error": {"type", "message"}}`."""
    status = 400 if parts.status in _AS_BAD_REQUEST else parts.status
    kind = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return status, {"type": "error", "error": {"type": kind, "message": parts.cause}}


ANTHROPIC_ERRORS = ErrorDialect(AnthropicErrorBody, anthropic_error)
"""The error dialect of `POST /v1/messages`."""


@messages_routes.post(MESSAGES_PATH)
@declare(
    "Anthropic-compatible Messages over one agent turn.",
    {
        200: Answer(
            "With `stream: true` the `anthropic` SSE format, else one `message`.",
            AnthropicMessage,
            content={"text/event-stream": ServerSentEvent},
        ),
        400: refusal("A request an agent turn cannot answer (the cause names the fields)."),
        404: NO_CONVERSATION,
        503: UNAVAILABLE,
    },
    TURN_FAILED,
    SLOT_REFUSALS,
    body=MessagesRequest,
    errors=ANTHROPIC_ERRORS,
)
async def messages(request: web.Request) -> web.StreamResponse:
    """Answer an Anthropic Messages request: its stream events with `stream`, else one message."""
    body = await read_json(request, MessagesRequest)
    try:
        query = body.to_turn()
    except UnsupportedRequest as exc:
        raise Rejected(400, "Unsupported request", exc.cause) from exc
    with StreamSession(request) as session:
        if body.stream:
            return await session.stream(query, AnthropicFormatter(model=body.model))
        return await _complete(session, query, body.model)


async def _complete(session: StreamSession, query: TurnRequest, model: str) -> web.Response:
    events, message = MessageEvents(message_id=new_message_id(), model=model), MessageAssembler()
    fold = assembled(events.payloads, message.add)
    # an Anthropic Messages client cannot answer an approval request: denied, the answer says so
    failed = await answer_turn(session, query, fold, MESSAGE, "none")
    return failed or web.json_response(checked(AnthropicMessage, message.message()))
