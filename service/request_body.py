"""Reading a JSON request body into a pydantic model, refusing bad bodies in one way."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ValidationError

from service.errors import Rejected

_JSON_TYPES = {"application/json", "application/octet-stream", ""}


async def read_json[Model: BaseModel](request: web.Request, model: type[Model]) -> Model:
    """Validate the body as `model`; raise Rejected (415 not JSON, 422 invalid) otherwise."""
    if request.content_type not in _JSON_TYPES:
        raise Rejected(
            415,
            "Unsupported media type",
            f"The body must be JSON (Content-Type: application/json), not {request.content_type}.",
        )
    try:
        return model.model_validate_json(await request.read())
    except ValidationError as exc:
        raise Rejected(422, "Invalid request", validation_cause(exc)) from exc


def validation_cause(exc: ValidationError) -> str:
    """Say what was wrong, field by field: `query: Field required; no_tools: ...`."""
    parts = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "body"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)
