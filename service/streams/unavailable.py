"""The 503 answer of an upstream that cannot be reached or refused the call."""

from __future__ import annotations

import structlog
from aiohttp import web

from service.errors import error_response
from service.upstream import UpstreamUnavailable

log = structlog.get_logger(__name__)


def unavailable(exc: UpstreamUnavailable) -> web.Response:
    """Log why the upstream is unavailable and answer 503 with the reason (never an address)."""
    log.warning("upstream unavailable", reason=exc.reason, detail=exc.detail)
    return error_response(503, "Unable to connect to Llama Stack", exc.reason)
