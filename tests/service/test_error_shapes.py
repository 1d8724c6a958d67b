"""A route that speaks another protocol answers every error, raised or returned, in its shape."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from service.errors import ErrorParts, Rejected, error_response, json_errors, speak_errors


def _shape(parts: ErrorParts) -> tuple[int, dict[str, Any]]:
    status = 400 if parts.status == 422 else parts.status
    return status, {"error": {"status": parts.status, "message": parts.cause}}


async def _raises(request: web.Request) -> web.Response:
    raise Rejected(422, "Invalid request", "x: Field required", {"Retry-After": "3"})


async def _returns(request: web.Request) -> web.Response:
    return error_response(503, "Unavailable", "no upstream")


async def _fails(request: web.Request) -> web.Response:
    raise RuntimeError("boom")


def _app() -> web.Application:
    app = web.Application(middlewares=[json_errors])
    app.router.add_post("/shaped/raise", _raises)
    app.router.add_post("/shaped/return", _returns)
    app.router.add_post("/shaped/fail/{id}", _fails)
    app.router.add_post("/plain", _raises)
    for path in ("/shaped/raise", "/shaped/return", "/shaped/fail/{id}"):
        speak_errors(app, path, _shape)
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
