"""`POST /v1/chat/completions`: an OpenAI-compatible request runs one agent turn."""

from __future__ import annotations

from aiohttp import web

from formatters.openai import OpenAIFormatter
from service.chat_answer import ChatCompletion, checked
from service.chat_request import ChatCompletionRequest, UnsupportedRequest
from service.completion import ChatFold
from service.conversations.owners import NO_CONVERSATION
from service.errors import Rejected, refusal
from service.non_streamed import CHAT_COMPLETION, TURN_FAILED, UNAVAILABLE, answer_turn
from service.request_body import read_json
from service.request_models import QueryRequest
from service.route_spec import Answer, ServerSentEvent, declare
from service.session import StreamSession
from service.state import SLOT_REFUSALS

chat_routes = web.RouteTableDef()


@chat_routes.post("/v1/chat/completions")
@declare(
    "OpenAI-compatible chat completion over one agent turn.",
    {
        200: Answer(
            "With `stream: true` the `openai` SSE format, else one `chat.completion`.",
            ChatCompletion,
            content={"text/event-stream": ServerSentEvent},
        ),
        404: NO_CONVERSATION,
        422: refusal("A request an agent turn cannot answer (the cause names the fields)."),
        503: UNAVAILABLE,
    },
    TURN_FAILED,
    SLOT_REFUSALS,
    body=ChatCompletionRequest,
)
async def chat_completions(request: web.Request) -> web.StreamResponse:
    """Answer an OpenAI chat request: `openai` SSE chunks with `stream`, else one JSON object."""
    body = await read_json(request, ChatCompletionRequest)
    try:
        query = body.to_query()
    except UnsupportedRequest as exc:
        raise Rejected(422, "Unsupported request", exc.cause) from exc
    with StreamSession(request) as session:
        if body.stream:
            formatter = OpenAIFormatter(model=body.model, include_usage=body.include_usage)
            return await session.stream(query, formatter)
        return await _complete(session, query, body.model)


async def _complete(session: StreamSession, query: QueryRequest, model: str) -> web.Response:
    fold = ChatFold(model)
    failed = await answer_turn(session, query, fold, CHAT_COMPLETION)
    return failed or web.json_response(checked(fold.completion.completion()))
