"""The aiohttp application: routes, middleware, and the resources it opens and closes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import structlog
from aiohttp import web

from service.approvals.context import approvals_context
from service.conversations.bindings import bindings_context
from service.conversations.directory import ConversationDirectory, SharedRecords
from service.errors import json_errors, speak_declared_errors
from service.http import auth
from service.http.a2a_routes import a2a_routes
from service.http.ag_ui_run import ag_ui_routes
from service.http.anthropic_messages import messages_routes
from service.http.approval_routes import approval_routes
from service.http.chat_completions import chat_routes
from service.http.cors import configure_cors
from service.http.lightspeed_routes import lightspeed_routes
from service.http.middleware import echo_request_id, request_context
from service.http.openapi import openapi_routes
from service.http.responses_routes import responses_routes
from service.http.resume_routes import resume_routes
from service.http.routes import routes
from service.http.server_log import server_log
from service.http.web_ui import web_ui_routes
from service.keys import ACTIVE_STREAMS, BINDINGS, METRICS, REGISTRY, SETTINGS, UPSTREAM
from service.observability.metrics import Metrics, count_rejections, metrics_routes
from service.observability.tracing import configure_tracing, trace_requests
from service.resume.manager import resume_context
from service.resume.outcomes import STREAM_OUTCOMES
from service.settings import Settings
from service.streams.drain import drain_streams
from service.streams.non_streamed import LABELS
from service.streams.registry import FormatterRegistry, load_registry
from service.streams.state import ActiveStreams
from service.upstream import Upstream
from service.upstream.agents import AgentsUpstream
from service.upstream.demo import DemoUpstream
from service.upstream.responses import ResponsesUpstream

log = structlog.get_logger(__name__)


class ConfigurationError(Exception):
    """The settings ask for something this service cannot do."""


def create_app(
    settings: Settings,
    *,
    registry: FormatterRegistry | None = None,
    upstream: Upstream | None = None,
) -> web.Application:
    """Build the application; the upstream is opened on start-up unless one is given."""
    app = web.Application(
        middlewares=[
            request_context,
            trace_requests,
            count_rejections,
            json_errors,
            auth.authenticate,
        ],
        client_max_size=settings.max_body_bytes,
        handler_args={"logger": server_log()},
    )
    app[SETTINGS] = settings
    app[REGISTRY] = registry if registry is not None else load_registry()
    app[ACTIVE_STREAMS] = ActiveStreams()
    app[METRICS] = Metrics([*app[REGISTRY].names(), *LABELS], STREAM_OUTCOMES)
    configure_tracing(app, settings)
    auth.install(app, settings)
    app.add_routes(routes)
    app.add_routes(metrics_routes)
    app.add_routes(chat_routes)
    app.add_routes(responses_routes)
    app.add_routes(messages_routes)
    app.add_routes(ag_ui_routes)
    app.add_routes(a2a_routes)
    app.add_routes(lightspeed_routes)
    app.add_routes(web_ui_routes)
    app.add_routes(openapi_routes)
    app.add_routes(resume_routes)
    app.add_routes(approval_routes)
    app.on_response_prepare.append(echo_request_id)
    app.on_startup.append(speak_declared_errors)  # each route's declared error dialect
    app.on_shutdown.append(drain_streams)
    app.cleanup_ctx.append(bindings_context)  # first: the upstream's conversations use it
    app.cleanup_ctx.append(approvals_context)
    if upstream is not None:
        app[UPSTREAM] = upstream
    else:
        app.cleanup_ctx.append(_upstream_context)
    app.cleanup_ctx.append(resume_context)  # after the upstream: its turns stop first
    configure_cors(app, settings)  # last: it covers every route added above
    return app


async def _upstream_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if not settings.llama_stack_base_url:
        log.warning(
            "NO UPSTREAM CONFIGURED: serving the built-in DEMO AGENT "
            "(set LLAMA_STACK_BASE_URL to use a llama-stack server)"
        )
        directory = ConversationDirectory(SharedRecords(app[BINDINGS]))
        app[UPSTREAM] = DemoUpstream(settings.demo_delay, directory)
        yield
        return
    log.info("upstream", api=settings.llama_stack_api, base_url=settings.llama_stack_base_url)
    if settings.llama_stack_api == "responses":
        async with ResponsesUpstream(settings) as responses:
            app[UPSTREAM] = responses
            yield
        return
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=settings.upstream_connect_timeout)
    # No connection cap (aiohttp's default is 100): each open stream holds one upstream
    # connection, and MAX_CONCURRENT_STREAMS already bounds them (bench/ttfb.py, bench/idle.py).
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        app[UPSTREAM] = AgentsUpstream(session, settings, SharedRecords(app[BINDINGS]))
        yield
