"""OpenAI's error object, the error shape of the routes that speak OpenAI's Responses API."""

from __future__ import annotations

from typing import Any

from service.errors import ErrorParts

_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


def openai_error_shape(parts: ErrorParts) -> tuple[int, dict[str, Any]]:
    """Return the status and `{"error": {"message", "type", "param", "code"}}` of an error."""
    kind = _TYPES.get(
        parts.status, "invalid_request_error" if parts.status < 500 else "server_error"
    )
    error = {
        "message": f"{parts.response}: {parts.cause}",
        "type": kind,
        "param": None,
        "code": "_".join(parts.response.lower().split()),
    }
    return parts.status, {"error": error}
