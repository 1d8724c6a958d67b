"""Graceful drain on shutdown: let open streams finish, then end the rest with an error frame."""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web

from service.keys import ACTIVE_STREAMS, SETTINGS

log = structlog.get_logger(__name__)

GRACE_AFTER_STOP = 5.0
"""How long ended streams get to write their error and terminal frames."""


async def drain_streams(app: web.Application) -> None:
    """On shutdown: wait up to DRAIN_TIMEOUT for open streams, then tell the rest to end."""
    active, timeout = app[ACTIVE_STREAMS], app[SETTINGS].drain_timeout
    active.draining = True
    log.info("draining", open_streams=active.count, drain_timeout=timeout)
    try:
        async with asyncio.timeout(timeout):
            await active.idle()
        return
    except TimeoutError:
        log.warning("drain timeout: ending open streams", open_streams=active.count)
    stop = active.stop_signal()
    if not stop.done():
        stop.set_result(None)
    try:
        async with asyncio.timeout(GRACE_AFTER_STOP):
            await active.idle()
    except TimeoutError:
        log.error("streams still open after the drain", open_streams=active.count)
