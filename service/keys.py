"""Every typed key of the app and of its requests, in one place (their types below)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

    from service.approvals.desk import ApprovalDesk
    from service.conversations.bindings import BindingStore
    from service.http.auth import Authenticator
    from service.observability.metrics import Metrics
    from service.resume.manager import Resumer
    from service.route_spec import ErrorShape
    from service.settings import Settings
    from service.streams.registry import FormatterRegistry
    from service.streams.session import Sink
    from service.streams.state import ActiveStreams
    from service.upstream import Upstream

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
REGISTRY: web.AppKey[FormatterRegistry] = web.AppKey("registry")
UPSTREAM: web.AppKey[Upstream] = web.AppKey("upstream")
ACTIVE_STREAMS: web.AppKey[ActiveStreams] = web.AppKey("active_streams")
RESUMER: web.AppKey[Resumer] = web.AppKey("resumer")
ERROR_SHAPES: web.AppKey[dict[str, ErrorShape]] = web.AppKey("error_shapes")
"""Error shapes by route path, for routes that speak another protocol than the contract's."""
TRACER: web.AppKey[Tracer] = web.AppKey("tracer")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
AUTHENTICATOR: web.AppKey[Authenticator] = web.AppKey("authenticator")
BINDINGS: web.AppKey[BindingStore] = web.AppKey("bindings")
STREAM_SINK: web.AppKey[Sink] = web.AppKey("stream_sink")
"""The sink of the app's streams when it is not `DirectSink` (resumable streams set it)."""
APPROVALS: web.AppKey[ApprovalDesk] = web.AppKey("approvals")
"""The approval desk: pending tool approval requests, in Redis with REDIS_URL."""
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id", str)
PRINCIPAL: web.RequestKey[str] = web.RequestKey("principal", str)
"""Who the request authenticated as (API key name or JWT subject); absent when auth is off."""
