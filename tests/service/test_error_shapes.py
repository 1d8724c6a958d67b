"""A route that speaks another protocol answers every error, raised or returned, in its shape."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import BaseModel

from service.errors import Rejected, error_response, json_errors, refusal, speak_declared_errors
from service.http.app import create_app
from service.route_spec import Answer, ErrorDialect, ErrorParts, declare
from service.settings import Settings


class ShapedError(BaseModel):
    """Another protocol's error body (a test's)."""

    error: dict[str, Any]


def _shape(parts: ErrorParts) -> tuple[int, dict[str, Any]]:
    status = 400 if parts.status == 422 else parts.status
    return status, {"error": {"status": parts.status, "message": parts.cause}}


SHAPED = ErrorDialect(ShapedError, _shape)
_speaks = declare(
    "Answers errors in its own shape.",
    {200: Answer("Fine."), 422: refusal("Refused."), 500: refusal("Failed."), 503: refusal("No.")},
    errors=SHAPED,
)


async def _plain(request: web.Request) -> web.Response:
    raise Rejected(422, "Invalid request", "x: Field required", {"Retry-After": "3"})


@_speaks
async def _raises(request: web.Request) -> web.Response:
    raise Rejected(422, "Invalid request", "x: Field required", {"Retry-After": "3"})


@_speaks
async def _returns(request: web.Request) -> web.Response:
    return error_response(503, "Unavailable", "no upstream")


@_speaks
async def _fails(request: web.Request) -> web.Response:
    raise RuntimeError("boom")


def _app() -> web.Application:
    app = web.Application(middlewares=[json_errors])
    app.router.add_post("/shaped/raise", _raises)
    app.router.add_post("/shaped/return", _returns)
    app.router.add_post("/shaped/fail/{id}", _fails)
    app.router.add_post("/plain", _plain)
    app.on_startup.append(speak_declared_errors)
    return app


async def test_raised_returned_and_unexpected_errors_take_the_route_s_shape(
    aiohttp_client: Any,
) -> None:
    client: TestClient[web.Request, web.Application] = await aiohttp_client(_app())
    raised = await client.post("/shaped/raise")
    assert (raised.status, await raised.json()) == (
        400,
        {"error": {"status": 422, "message": "x: Field required"}},
    )
    assert raised.headers["Retry-After"] == "3"
    returned = await client.post("/shaped/return")
    assert (returned.status, await returned.json()) == (
        503,
        {"error": {"status": 503, "message": "no upstream"}},
    )
    failed = await client.post("/shaped/fail/7")
    assert (failed.status, await failed.json()) == (
        500,
        {"error": {"status": 500, "message": "An unexpected error occurred."}},
    )


async def test_other_routes_keep_the_contract_s_shape(aiohttp_client: Any) -> None:
    client: TestClient[web.Request, web.Application] = await aiohttp_client(_app())
    plain = await client.post("/plain")
    assert (plain.status, await plain.json()) == (
        422,
        {"detail": {"response": "Invalid request", "cause": "x: Field required"}},
    )
    missing = await client.post("/nowhere")
    assert (await missing.json())["detail"]["cause"] == "No such route."


async def test_a_route_declared_with_a_dialect_speaks_it_in_the_service_app(
    aiohttp_client: Any,
) -> None:
    app = create_app(Settings())
    app.router.add_post("/v1/shaped", _raises)  # its declaration is all it takes
    client: TestClient[web.Request, web.Application] = await aiohttp_client(app)
    raised = await client.post("/v1/shaped")
    assert (raised.status, await raised.json()) == (
        400,
        {"error": {"status": 422, "message": "x: Field required"}},
    )
    assert SHAPED.status(422) == 400 and SHAPED.status(503) == 503


async def test_two_dialects_on_one_path_are_refused_at_start_up() -> None:
    other = ErrorDialect(ShapedError, lambda parts: (parts.status, {"error": {}}))

    @declare("Another dialect.", {200: Answer("Fine.")}, errors=other)
    async def _other(request: web.Request) -> web.Response:
        raise AssertionError("never called")

    app = web.Application()
    app.router.add_post("/shaped", _raises)
    app.router.add_get("/shaped", _other)
    with pytest.raises(ValueError, match="/shaped: its routes declare two error dialects"):
        await speak_declared_errors(app)
