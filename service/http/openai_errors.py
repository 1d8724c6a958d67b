"""OpenAI's error object, the error shape of the routes that speak OpenAI's API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from service.route_spec import ErrorDialect, ErrorParts

_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error"}
_TYPES |= {429: "rate_limit_error"}


def openai_error_shape(parts: ErrorParts) -> tuple[int, dict[str, Any]]:
    """Return `{"error": {"message", "type", "param", "code"}}`; `code` names the response."""
    status = parts.status
    kind = _TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
    error = {
        "message": f"{parts.response}: {parts.cause}",
        "type": kind,
        "param": None,
        "code": parts.response.lower().replace(" ", "_"),
    }
    return status, {"error": error}


class OpenAIErrorObject(BaseModel):
    """OpenAI's error object: `message` is "<response>: <cause>", `code` the response as a slug."""

    model_config = ConfigDict(extra="forbid")

    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIErrorBody(BaseModel):
    """The error shape of the routes that speak OpenAI's API."""

    model_config = ConfigDict(extra="forbid")

    error: OpenAIErrorObject


OPENAI_ERRORS = ErrorDialect(OpenAIErrorBody, openai_error_shape)
"""The error dialect of the routes that speak OpenAI's API."""
