"""Reading a JSON request body into a pydantic model, refusing bad bodies in one way."""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError

from service.errors import Rejected, RequestAbandoned, refusal
from service.keys import SETTINGS
from service.route_spec import Answer

log = structlog.get_logger(__name__)

_JSON_TYPES = {"application/json", "application/octet-stream", ""}

BODY_REFUSALS: dict[int, Answer] = {
    400: refusal("The body is not well framed (shorter than its Content-Length, bad chunks)."),
    408: refusal("The body did not arrive complete within BODY_READ_TIMEOUT."),
    413: refusal("The body is larger than MAX_BODY_BYTES."),
    415: refusal("The body is not JSON by its content type."),
    422: refusal(
        "Malformed JSON, missing or blank required fields, wrong types or unknown fields."
    ),
}
"""What reading a body may refuse: declared by every route that declares a body model."""


async def read_json[Model: BaseModel](request: web.Request, model: type[Model]) -> Model:
    """Validate the body as `model`; raise Rejected (415 not JSON, 422 invalid) otherwise."""
    if request.content_type not in _JSON_TYPES:
        raise Rejected(
            415,
            "Unsupported media type",
            f"The body must be JSON (Content-Type: application/json), not {request.content_type}.",
        )
    try:
        body = model.model_validate_json(await read_body(request))
    except ValidationError as exc:
        raise Rejected(422, "Invalid request", validation_cause(exc)) from exc
    ignored = sorted(getattr(model, "IGNORED_FIELDS", frozenset()) & body.model_fields_set)
    if ignored:
        log.debug("request fields accepted and ignored", fields=ignored)
    return body


async def read_body(request: web.Request) -> bytes:
    """Read the whole body within BODY_READ_TIMEOUT; raise Rejected (408, 400) otherwise."""
    seconds = request.app[SETTINGS].body_read_timeout
    try:
        async with asyncio.timeout(seconds):
            return await request.read()
    except TimeoutError:
        log.info("request body timed out", timeout_seconds=seconds)
        raise Rejected(
            408,
            "Request timeout",
            f"The request body did not arrive complete within {seconds:g} s.",
            close=True,
        ) from None
    except ConnectionError:
        raise RequestAbandoned() from None
    except web.RequestPayloadError as exc:
        log.info("request body malformed", error=str(exc))
        raise Rejected(400, "Bad request body", f"The body is not well framed: {exc}.") from None


def validation_cause(exc: ValidationError) -> str:
    """Say what was wrong, field by field: `query: Field required; no_tools: ...`."""
    parts = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "body"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)
