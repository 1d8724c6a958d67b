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
    """A request refused before any streaming; the middleware answers it in the error shape.

    `close` ends the connection after the answer (the request's body cannot be trusted to end).
    """

    def __init__(
        self,
        status: int,
        response: str,
        cause: str,
        headers: Mapping[str, str] | None = None,
        *,
        close: bool = False,
    ) -> None:
        super().__init__(f"{status} {response}: {cause}")
        self.status, self.response, self.cause = status, response, cause
        self.headers = dict(headers or {})
        self.close = close


class RequestAbandoned(Exception):
    """The client closed the connection before its request was complete: nobody to answer."""


ABANDONED_STATUS = 499
"""Status recorded for an abandoned request (nginx's "client closed request"); never sent."""


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
        answer = error_response(exc.status, exc.response, exc.cause, exc.headers)
        return await _answer_and_close(request, answer) if exc.close else answer
    except RequestAbandoned:
        log.info("client closed the connection before its request was complete")
        return web.Response(status=ABANDONED_STATUS)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in {"allow", "retry-after"}}
        return error_response(exc.status, exc.reason, _cause(exc), headers)
    except Exception:
        log.exception("unhandled error")
        return error_response(500, "Internal server error", "An unexpected error occurred.")


async def _answer_and_close(request: web.Request, answer: web.Response) -> web.Response:
    """Send the answer now and close the connection (no waiting for the rest of a body)."""
    answer.force_close()
    await answer.prepare(request)
    await answer.write_eof()
    if request.transport is not None:
        request.transport.close()
    return answer


def _cause(exc: web.HTTPException) -> str:
    if exc.status == 413:
        return f"The request body is larger than this service accepts ({exc.text})."
    if exc.status == 405:
        return f"{exc.reason}: allowed methods are {exc.headers.get('Allow', '')}."
    if exc.status == 404:
        return "No such route."
    return exc.text or exc.reason
