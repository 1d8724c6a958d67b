"""Typed application state keys and the per-app stream counter."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from service.registry import FormatterRegistry
from service.settings import Settings
from service.upstream import Upstream


@dataclass(slots=True)
class ActiveStreams:
    """How many streams this app is serving right now."""

    count: int = 0


SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", FormatterRegistry)
UPSTREAM: web.AppKey[Upstream] = web.AppKey("upstream")
ACTIVE_STREAMS = web.AppKey("active_streams", ActiveStreams)
REQUEST_ID = web.RequestKey("request_id", str)
