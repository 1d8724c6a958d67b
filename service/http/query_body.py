"""A lightspeed query's body: the model's checks, then the vector stores the operator offers."""

from __future__ import annotations

from aiohttp import web

from service.errors import Rejected
from service.http.models.query import QueryRequest
from service.http.request_body import read_json
from service.keys import SETTINGS


async def read_query(request: web.Request) -> QueryRequest:
    """Read a `QueryRequest`; 422 when it names a vector store `ALLOWED_VECTOR_STORE_IDS` lacks."""
    query = await read_json(request, QueryRequest)
    allowed = request.app[SETTINGS].allowed_vector_store_ids
    refused = [store for store in query.vector_store_ids or () if store not in allowed]
    if refused:
        offered = ", ".join(allowed) if allowed else "none"
        raise Rejected(
            422,
            "Invalid request",
            f"vector_store_ids: {', '.join(refused)} not offered here; allowed: {offered}",
        )
    return query
