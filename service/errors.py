"""The contract's JSON error shape, and the middleware that gives every error that shape."""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ConfigDict

from service.keys import ERROR_SHAPES
from service.route_spec import Answer, Condition, ErrorParts, ErrorShape, Header, always, spec_of

log = structlog.get_logger(__name__)

CONTRACT_ERROR = web.ResponseKey("contract_error", bool)
"""Set on every error response built here, so metrics can count refusals (not probe answers)."""


ERROR_PARTS = web.ResponseKey("error_parts", ErrorParts)
"""Set on every error response built here: what it says, for a route that speaks another shape."""


async def speak_declared_errors(app: web.Application) -> None:
    """Make every route declared with an `ErrorDialect` answer each error in its shape.

    An `on_startup` signal: it walks the router once it is complete, whoever added the routes.
    """
    shapes: dict[str, ErrorShape] = {}
    for route in app.router.routes():
        spec = spec_of(route.handler)
        if spec is None or spec.errors is None or route.resource is None:
            continue
        path = route.resource.canonical
        if shapes.setdefault(path, spec.errors.shape) is not spec.errors.shape:
            raise ValueError(f"{path}: its routes declare two error dialects")
    app[ERROR_SHAPES] = shapes


class ErrorDetail(BaseModel):
    """What went wrong: a short message and the exact cause."""

    model_config = ConfigDict(extra="forbid")

    response: str
    cause: str


class ErrorBody(BaseModel):
    """The contract's error shape (lightspeed-stack's)."""

    model_config = ConfigDict(extra="forbid")

    detail: ErrorDetail


def refusal(
    description: str, *, headers: Mapping[str, Header] | None = None, when: Condition = always
) -> Answer:
    """Declare an error answer: the contract's `ErrorBody`, as `error_response` sends it."""
    return Answer(description, ErrorBody, headers=dict(headers or {}), when=when, error=True)


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
    body = ErrorBody(detail=ErrorDetail(response=response, cause=cause))
    answer = web.json_response(body.model_dump(mode="json"), status=status, headers=headers)
    answer[CONTRACT_ERROR] = True
    answer[ERROR_PARTS] = ErrorParts(status, response, cause)
    return answer


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn aiohttp's HTTP exceptions and unexpected failures into JSON error responses."""
    try:
        return _in_route_shape(request, await handler(request))
    except Rejected as exc:
        answer = _in_route_shape(
            request, error_response(exc.status, exc.response, exc.cause, exc.headers)
        )
        return await _answer_and_close(request, answer) if exc.close else answer
    except RequestAbandoned:
        log.info("client closed the connection before its request was complete")
        return web.Response(status=ABANDONED_STATUS)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in {"allow", "retry-after"}}
        return _in_route_shape(
            request, error_response(exc.status, exc.reason, _cause(exc), headers)
        )
    except Exception:
        log.exception("unhandled error")
        answer = error_response(500, "Internal server error", "An unexpected error occurred.")
        return _in_route_shape(request, answer)


def _in_route_shape(request: web.Request, answer: web.StreamResponse) -> web.StreamResponse:
    """Rebuild an error answer in its route's own shape, if the route has one."""
    parts = answer.get(ERROR_PARTS) if isinstance(answer, web.Response) else None
    shape = request.app.get(ERROR_SHAPES, {}).get(_route_path(request))
    if parts is None or shape is None or answer.prepared:
        return answer
    status, body = shape(parts)
    kept = {k: v for k, v in answer.headers.items() if k.lower() not in _BODY_HEADERS}
    shaped = web.json_response(body, status=status, headers=kept)
    shaped[CONTRACT_ERROR] = True
    shaped[ERROR_PARTS] = parts
    return shaped


_BODY_HEADERS = frozenset({"content-type", "content-length"})


def _route_path(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return "" if resource is None else resource.canonical


async def _answer_and_close(request: web.Request, answer: web.StreamResponse) -> web.StreamResponse:
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
