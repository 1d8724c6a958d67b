"""lightspeed-stack's other routes that frontends call: models, the non-streamed query, history."""

from __future__ import annotations

import structlog
from aiohttp import web

from service.conversations.owners import request_owner
from service.lightspeed_models import (
    CatalogModel,
    ConversationAnswer,
    ConversationDeleted,
    ConversationTurn,
    HistoryMessage,
    ModelList,
    OpenAIModel,
)
from service.non_streamed import QUERY, answer_turn
from service.query_answer import QueryFold
from service.request_body import read_json
from service.request_models import QueryRequest
from service.session import StreamSession
from service.state import UPSTREAM
from service.unavailable import unavailable
from service.upstream import HistoryTurn, ModelInfo, UpstreamUnavailable

log = structlog.get_logger(__name__)
lightspeed_routes = web.RouteTableDef()


@lightspeed_routes.get("/v1/models")
async def models(request: web.Request) -> web.Response:
    """List the upstream's models, in OpenAI's list shape and lightspeed-stack's at once."""
    try:
        listed = await request.app[UPSTREAM].models()
    except UpstreamUnavailable as exc:
        return unavailable(exc)
    answer = ModelList(data=[_openai(m) for m in listed], models=[_catalog(m) for m in listed])
    return web.json_response(answer.model_dump(mode="json"))


@lightspeed_routes.post("/v1/query")
async def query(request: web.Request) -> web.Response:
    """Run one agent turn and answer it whole, in lightspeed-stack 0.7.1's `QueryResponse`."""
    body = await read_json(request, QueryRequest)
    fold = QueryFold()
    with StreamSession(request) as session:
        failed = await answer_turn(session, body, fold, QUERY)
    return failed or web.json_response(fold.answer().model_dump(mode="json"))


@lightspeed_routes.get("/v1/conversations/{conversation_id}")
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
