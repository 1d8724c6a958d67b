"""A pytest plugin: every status a service route sends in the suite must be one it declares.

Each service app the suite builds (any `web.Application` holding the service's settings) gets a
response signal that records (method, route, status, JSON body). After each test, a status the
app's OpenAPI operation (for that app's settings) lacks, a JSON body that is not the declared
model of its status, or a route that declares nothing, fails that test's teardown, naming the
route; the terminal summary says how many (method, route, status) were checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.web_urldispatcher import ResourceRoute
from pydantic import ValidationError

from service.errors import ABANDONED_STATUS
from service.http.openapi import UndeclaredRoute, operations
from service.keys import SETTINGS
from service.route_spec import Answer

Triple = tuple[str, str, int]
Declared = dict[tuple[str, str], dict[int, Answer]]


@dataclass
class Recorder:
    """What the service apps answered: per test (to check) and in all (to report)."""

    seen: list[tuple[web.Application, Triple, bytes | None]] = field(default_factory=list)
    checked: set[Triple] = field(default_factory=set)
    declared: dict[int, Declared | str] = field(default_factory=dict)

    async def on_response_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        """Note the route and status of one response of a service app."""
        route = request.match_info.route
        if SETTINGS not in request.app or not isinstance(route, ResourceRoute):
            return  # another app (a fake upstream), or no route matched (404/405 of the router)
        if request.method == "OPTIONS" or response.status == ABANDONED_STATUS:
            return  # CORS preflight, or no answer sent (the client left)
        method = "GET" if request.method == "HEAD" else request.method
        assert route.resource is not None
        body = None
        if isinstance(response, web.Response) and response.content_type == "application/json":
            body = response.body if isinstance(response.body, bytes) else None
        triple = (method, route.resource.canonical, response.status)
        self.seen.append((request.app, triple, body))

    def undeclared(self) -> list[str]:
        """Say what this test's apps answered that their routes do not declare; forget it."""
        problems = []
        for app, (method, path, status), body in self.seen:
            declared = self._declared(app)
            if isinstance(declared, str):
                problems.append(declared)
                continue
            self.checked.add((method, path, status))
            answers = declared.get((method.lower(), path), {})
            if status not in answers:
                problems.append(
                    f"{method} {path} answered {status}, which it does not declare "
                    f"(declared: {sorted(answers)}); add it to its @declare(...)"
                )
                continue
            model = answers[status].model
            if body is not None and model is not None:
                try:
                    model.model_validate_json(body)
                except ValidationError as exc:
                    problems.append(
                        f"{method} {path} answered {status} with a body that is not its "
                        f"declared {model.__name__}: {exc}"
                    )
        self.seen.clear()
        return sorted(set(problems))

    def _declared(self, app: web.Application) -> Declared | str:
        key = id(app)
        if key not in self.declared:
            try:
                self.declared[key] = {
                    (operation.method, operation.path): operation.answers
                    for operation in operations(app)
                }
            except UndeclaredRoute as exc:
                self.declared[key] = str(exc)
        return self.declared[key]


RECORDER = Recorder()
_original_init = web.Application.__init__


def _init(self: web.Application, *args: Any, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    self.on_response_prepare.append(RECORDER.on_response_prepare)


def pytest_configure(config: pytest.Config) -> None:
    """Record the responses of every app built from now on."""
    web.Application.__init__ = _init  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop recording."""
    web.Application.__init__ = _original_init  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def declared_statuses_only() -> Iterator[None]:
    """Fail the test whose service answered a status its route does not declare."""
    RECORDER.seen.clear()
    RECORDER.declared.clear()
    yield
    problems = RECORDER.undeclared()
    if problems:
        pytest.fail("undeclared route answers:\n  " + "\n  ".join(problems), pytrace=False)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many (method, route, status) triples the suite checked against declarations."""
    checked = RECORDER.checked
    if checked:
        routes = len({(method, path) for method, path, _ in checked})
        terminalreporter.write_line(
            f"route statuses: {len(checked)} (method, route, status) seen on {routes} routes "
            "checked against their declarations"
        )
