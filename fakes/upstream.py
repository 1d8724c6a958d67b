"""One fake llama-stack serving both APIs on one port: the Agents API 0.2 and the Responses API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from fakes.agents_upstream import FakeAgentsUpstream
from fakes.responses_upstream import FakeResponsesUpstream


@dataclass
class FakeUpstream:
    """The Agents fake and the Responses fake behind one server.

    A path both serve goes to the Responses fake, but for `GET /v1/models`, whose entries carry
    both shapes (OpenAI's `id` with `custom_metadata`, and the Agents API's `identifier` and
    `model_type`), so a llama-stack-client 0.2 and an OGX client alike find their model. The
    Responses fake's client-version check guards its own routes only (not the model list): a
    llama-stack-client 0.2 (lightspeed-stack 0.1.3's) talks to the rest as to a llama-stack 0.2.
    """

    agents: FakeAgentsUpstream = field(default_factory=FakeAgentsUpstream)
    responses: FakeResponsesUpstream = field(default_factory=FakeResponsesUpstream)
    _agents_routes: set[tuple[str, str]] = field(default_factory=set, init=False, repr=False)

    def app(self) -> web.Application:
        """The server: the models route, then every route of each fake not already taken."""
        app = web.Application(middlewares=[self._version_check])
        taken: set[tuple[str, str]] = set()
        for route in [
            web.get("/v1/models", self._models),
            *self.responses.routes(),
            *self.agents.routes(),
        ]:
            assert isinstance(route, web.RouteDef)
            if (route.method, route.path) not in taken:
                taken.add((route.method, route.path))
                app.router.add_routes([route])
        self._agents_routes = {
            (route.method, route.path)
            for route in self.agents.routes()
            if isinstance(route, web.RouteDef)
        } - {(route.method, route.path) for route in self.responses.routes()}
        self._agents_routes.add(("GET", "/v1/models"))  # the list both kinds of client read
        return app

    @web.middleware
    async def _version_check(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route
        key = (route.method, route.resource.canonical if route.resource else "")
        if key in self._agents_routes:
            return await handler(request)
        return await self.responses.version_check(request, handler)

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"data": [self.model_entry(m) for m in self.responses.models]})

    def model_entry(self, model: dict[str, Any]) -> dict[str, Any]:
        """One model in both APIs' shapes."""
        entry = self.responses.model_entry(model)
        metadata = entry["custom_metadata"]
        return {
            **entry,
            "identifier": model["id"],
            "provider_resource_id": model["id"],
            "provider_id": metadata["provider_id"],
            "type": "model",
            "metadata": {},
            "model_type": model["model_type"],
        }
