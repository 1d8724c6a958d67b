"""The suite's route-status check (tests/route_statuses.py) fails on what a route does not declare."""

from __future__ import annotations

import pytest

from service.http.app import create_app
from service.settings import Settings
from tests.paths import REPO
from tests.route_statuses import RECORDER

INNER_TESTS = """
from aiohttp import web

from service.http.app import create_app
from service.route_spec import Answer, declare
from service.http.routes import Ready, liveness
from service.settings import Settings


async def test_declared(aiohttp_client):
    client = await aiohttp_client(create_app(Settings(demo_delay=0)))
    assert (await client.get("/liveness")).status == 200
    assert (await client.post("/v1/streaming_query?format=nope", json={})).status == 400


async def test_a_declaration_removed(aiohttp_client):
    declare("Alive, but no longer declaring its 200.", {503: Answer("Never.")})(liveness)
    client = await aiohttp_client(create_app(Settings(demo_delay=0)))
    assert (await client.get("/liveness")).status == 200


async def test_a_body_that_is_not_the_declared_model(aiohttp_client):
    declare("Alive, declared as sending Ready.", {200: Answer("Ready?", Ready)})(liveness)
    client = await aiohttp_client(create_app(Settings(demo_delay=0)))
    assert (await client.get("/liveness")).status == 200


async def new_route(request):
    return web.json_response({})


async def test_a_route_added_without_a_declaration(aiohttp_client):
    app = create_app(Settings(demo_delay=0))
    app.router.add_get("/v1/new", new_route)
    client = await aiohttp_client(app)
    assert (await client.get("/v1/new")).status == 200
"""


def test_an_undeclared_status_or_route_fails_the_test_that_caused_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makeini("[pytest]\nasyncio_mode = auto\n")
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "tests.route_statuses", "-p", "no:cacheprovider", "-q"
    )
    result.assert_outcomes(passed=4, errors=3)
    assert [line.split(" - ")[0] for line in result.outlines if line.startswith("ERROR ")] == [
        "ERROR test_inner.py::test_a_declaration_removed",
        "ERROR test_inner.py::test_a_body_that_is_not_the_declared_model",
        "ERROR test_inner.py::test_a_route_added_without_a_declaration",
    ]
    output = result.stdout.str()
    assert (
        "undeclared route answers:\n  GET /liveness answered 200, which it does not declare "
        "(declared: [503]); add it to its @declare(...)\n"
    ) in output
    assert (
        "undeclared route answers:\n  GET /liveness answered 200 with a body that is not its "
        "declared Ready: 2 validation errors for Ready\nready\n  Field required"
    ) in output
    assert (
        "undeclared route answers:\n  GET /v1/new (new_route) declares nothing: decorate it "
        "with service.route_spec.declare(...)\n"
    ) in output


def test_every_service_app_of_this_suite_records_its_answers(
    pytestconfig: pytest.Config,
) -> None:
    assert pytestconfig.pluginmanager.has_plugin("tests.route_statuses")
    app = create_app(Settings())
    assert RECORDER.on_response_prepare in app.on_response_prepare
