"""CORS for browser frontends on other origins (aiohttp-cors), only for CORS_ALLOW_ORIGINS."""

from __future__ import annotations

import aiohttp_cors
from aiohttp import web

from service.settings import Settings

ALLOW_HEADERS = ("Authorization", "Content-Type", "Last-Event-ID", "X-Request-ID")
"""Request headers a cross-origin frontend may send (a preflight asks for them)."""
EXPOSE_HEADERS = ("X-Stream-ID", "X-Request-ID")
"""Response headers a cross-origin frontend may read."""
MAX_AGE = 600
"""Seconds a browser may cache a preflight answer."""


def configure_cors(app: web.Application, settings: Settings) -> None:
    """Answer CORS for every route (call after all routes are added); no origins → nothing."""
    if not settings.cors_allow_origins:
        return
    options = aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
        allow_credentials=False,
        allow_headers=ALLOW_HEADERS,
        expose_headers=EXPOSE_HEADERS,
        allow_methods=("GET", "POST"),
        max_age=MAX_AGE,
    )
    cors = aiohttp_cors.setup(app, defaults=dict.fromkeys(settings.cors_allow_origins, options))
    for route in list(app.router.routes()):
        if isinstance(route.resource, web.Resource) and route.method != "OPTIONS":
            cors.add(route)
