"""`POST /v1/chat/completions`: an OpenAI-compatible request runs one agent turn."""

from __future__ import annotations

import time

from aiohttp import web

from formatters.openai import ChunkBuilder, CompletionBuilder, OpenAIFormatter, new_completion_id
from service.conversations.owners import NO_CONVERSATION
from service.errors import Rejected, refusal
from service.http.models import checked
from service.http.models.chat import ChatCompletionRequest, UnsupportedRequest
from service.http.models.chat_answer import ChatCompletion
from service.http.openai_errors import OPENAI_ERRORS
from service.http.request_body import read_json
from service.keys import UPSTREAM
from service.route_spec import Answer, ServerSentEvent, declare
from service.streams.completion import assembled
from service.streams.non_streamed import CHAT_COMPLETION, TURN_FAILED, UNAVAILABLE, answer_turn
from service.streams.session import StreamSession
from service.streams.state import SLOT_REFUSALS
from service.upstream.turn import TurnRequest

CHAT_COMPLETIONS = "/v1/chat/completions"
chat_routes = web.RouteTableDef()


@chat_routes.post(CHAT_COMPLETIONS)
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
    errors=OPENAI_ERRORS,
)
async def chat_completions(request: web.Request) -> web.StreamResponse:
    """Answer an OpenAI chat request: `openai` SSE chunks with `stream`, else one JSON object."""
    body = await read_json(request, ChatCompletionRequest)
    try:
        query = body.to_turn()
    except UnsupportedRequest as exc:
        raise Rejected(422, "Unsupported request", exc.cause) from exc
    upstream = request.app[UPSTREAM]
    if query.client_tools and not upstream.client_functions:
        raise Rejected(
            422,
            "Unsupported request",
            f"tools: the {upstream.name} upstream cannot offer the client's own functions to "
            "the model; use the responses upstream (LLAMA_STACK_API=responses)",
        )
    with StreamSession(request) as session:
        if body.stream:
            formatter = OpenAIFormatter(
                model=body.model, include_usage=body.include_usage, client_tools=body.client_tools
            )
            return await session.stream(query, formatter)
        return await _complete(session, query, body)


async def _complete(
    session: StreamSession, query: TurnRequest, body: ChatCompletionRequest
) -> web.Response:
    chunks = ChunkBuilder(
        completion_id=new_completion_id(),
        created=int(time.time()),
        model=body.model,
        include_usage=True,
        client_tools=body.client_tools,
    )
    completion = CompletionBuilder()
    fold = assembled(chunks.payloads, completion.add)
    # an OpenAI chat client cannot answer an approval request: denied, and the answer says so
    failed = await answer_turn(session, query, fold, CHAT_COMPLETION, "none")
    return failed or web.json_response(checked(ChatCompletion, completion.completion()))
