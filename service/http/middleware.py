"""Per-request context: a request id from `X-Request-ID` (or a new one) in every log line."""

from __future__ import annotations

import re
import uuid

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from service.keys import REQUEST_ID

_SAFE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
HEADER = "X-Request-ID"


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bind the request id to structlog's context for the whole request."""
    given = request.headers.get(HEADER, "")
    request_id = given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    return await handler(request)


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """Echo the request id on every response, streamed ones included."""
    request_id = request.get(REQUEST_ID)
    if request_id:
        response.headers[HEADER] = request_id
