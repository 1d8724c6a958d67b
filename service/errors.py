"""The contract's JSON error shape, and the middleware that gives every error that shape."""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

log = structlog.get_logger(__name__)

CONTRACT_ERROR = web.ResponseKey("contract_error", bool)
"""Set on every error response built here, so metrics can count refusals (not probe answers)."""


class Rejected(Exception):
    """A request refused before any streaming; the middleware answers it in the error shape."""

    def __init__(
        self, status: int, response: str, cause: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {response}: {cause}")
        self.status, self.response, self.cause = status, response, cause
        self.headers = dict(headers or {})


def error_response(
    status: int, response: str, cause: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Return `{"detail": {"response": ..., "cause": ...}}` with that status."""
    answer = web.json_response(
        {"detail": {"response": response, "cause": cause}}, status=status, headers=headers
    )
    answer[CONTRACT_ERROR] = True
    return answer


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn aiohttp's HTTP exceptions and unexpected failures into JSON error responses."""
    try:
        return await handler(request)
    except Rejected as exc:
        return error_response(exc.status, exc.response, exc.cause, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in {"allow", "retry-after"}}
        return error_response(exc.status, exc.reason, _cause(exc), headers)
    except Exception:
        log.exception("unhandled error")
        return error_response(500, "Internal server error", "An unexpected error occurred.")


def _cause(exc: web.HTTPException) -> str:
    if exc.status == 413:
        return f"The request body is larger than this service accepts ({exc.text})."
    if exc.status == 405:
        return f"{exc.reason}: allowed methods are {exc.headers.get('Allow', '')}."
    if exc.status == 404:
        return "No such route."
    return exc.text or exc.reason
