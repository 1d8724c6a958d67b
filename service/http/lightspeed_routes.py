"""lightspeed-stack's other routes that frontends call: models, the non-streamed query, history."""

from __future__ import annotations

import structlog
from aiohttp import web

from service.approvals.desk import APPROVAL_REFUSALS
from service.conversations.owners import NO_CONVERSATION, request_owner
from service.http.models.lightspeed import (
    CatalogModel,
    ConversationAnswer,
    ConversationDeleted,
    ConversationTurn,
    HistoryMessage,
    ModelList,
    OpenAIModel,
    QueryAnswer,
)
from service.http.models.query import QueryRequest
from service.http.models.query_answer import QueryFold
from service.http.query_body import read_query
from service.keys import UPSTREAM
from service.route_spec import Answer, always, declare
from service.streams.non_streamed import QUERY, TURN_FAILED, UNAVAILABLE, answer_turn
from service.streams.session import StreamSession
from service.streams.state import SLOT_REFUSALS
from service.streams.unavailable import unavailable
from service.upstream import HistoryTurn, ModelInfo, UpstreamUnavailable

log = structlog.get_logger(__name__)
lightspeed_routes = web.RouteTableDef()

NOT_YOURS = NO_CONVERSATION.but(
    "No conversation of the caller's has this id (unknown, deleted, or someone else's): one "
    "answer for all three.",
    when=always,
)


@lightspeed_routes.get("/v1/models")
@declare(
    "The upstream's models: OpenAI's list (`data`) and lightspeed-stack's (`models`).",
    {200: Answer("Every model the upstream lists.", ModelList), 503: UNAVAILABLE},
)
async def models(request: web.Request) -> web.Response:
    """List the upstream's models, in OpenAI's list shape and lightspeed-stack's at once."""
    try:
        listed = await request.app[UPSTREAM].models()
    except UpstreamUnavailable as exc:
        return unavailable(exc)
    answer = ModelList(data=[_openai(m) for m in listed], models=[_catalog(m) for m in listed])
    return web.json_response(answer.model_dump(mode="json"))


@lightspeed_routes.post("/v1/query")
@declare(
    "Run one agent turn and answer it whole (lightspeed-stack 0.7.1's QueryResponse).",
    {
        200: Answer("The turn's answer, tool calls and results.", QueryAnswer),
        404: NO_CONVERSATION,
        503: UNAVAILABLE,
    },
    TURN_FAILED,
    APPROVAL_REFUSALS,
    SLOT_REFUSALS,
    body=QueryRequest,
)
async def query(request: web.Request) -> web.Response:
    """Run one agent turn and answer it whole, in lightspeed-stack 0.7.1's `QueryResponse`."""
    body = await read_query(request)
    fold = QueryFold()
    with StreamSession(request) as session:
        # a whole answer has no stream to ask on: an approval request is denied and said so
        failed = await answer_turn(session, body.to_turn(), fold.take, QUERY, "none")
    return failed or web.json_response(fold.answer().model_dump(mode="json"))


@lightspeed_routes.get("/v1/conversations/{conversation_id}")
@declare(
    "The caller's conversation history (lightspeed-stack 0.7.1's shape).",
    {200: Answer("The conversation's turns.", ConversationAnswer)},
    {404: NOT_YOURS, 503: UNAVAILABLE},
)
async def conversation(request: web.Request) -> web.Response:
    """Return the caller's conversation history (404 for an unknown or another's id)."""
    conversation_id = request.match_info["conversation_id"]
    try:
        turns = await request.app[UPSTREAM].history(conversation_id, request_owner(request))
    except UpstreamUnavailable as exc:
        return unavailable(exc)
    answer = ConversationAnswer(
        conversation_id=conversation_id, chat_history=[_turn(turn) for turn in turns]
    )
    return web.json_response(answer.model_dump(mode="json"))


@lightspeed_routes.delete("/v1/conversations/{conversation_id}")
@declare(
    "Delete the caller's conversation upstream and drop its owner binding.",
    {200: Answer("It was deleted.", ConversationDeleted)},
    {404: NOT_YOURS, 503: UNAVAILABLE},
)
async def delete_conversation(request: web.Request) -> web.Response:
    """Delete the caller's conversation upstream and drop its binding (404 as for GET)."""
    conversation_id = request.match_info["conversation_id"]
    try:
        await request.app[UPSTREAM].delete(conversation_id, request_owner(request))
    except UpstreamUnavailable as exc:
        return unavailable(exc)
    log.info("conversation deleted", conversation_id=conversation_id)
    return web.json_response(ConversationDeleted(conversation_id=conversation_id).model_dump())


def _openai(model: ModelInfo) -> OpenAIModel:
    return OpenAIModel(id=model.id, created=model.created, owned_by=model.owned_by)


def _catalog(model: ModelInfo) -> CatalogModel:
    return CatalogModel(
        identifier=model.id,
        metadata=model.metadata,
        api_model_type=model.model_type,
        provider_id=model.provider_id,
        provider_resource_id=model.provider_resource_id,
        model_type=model.model_type,
    )


def _turn(turn: HistoryTurn) -> ConversationTurn:
    return ConversationTurn(
        messages=[HistoryMessage(content=text, type=kind) for kind, text in turn.messages],
        provider=turn.provider,
        model=turn.model,
        started_at=turn.started_at,
        completed_at=turn.completed_at,
    )
