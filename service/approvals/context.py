"""The app's approval desk: in Redis with REDIS_URL (shared by every replica), else in process."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from service.approvals.desk import ApprovalDesk, MemoryDesk
from service.approvals.redis_desk import RedisDesk
from service.keys import APPROVALS, SETTINGS
from service.settings import Settings


def make_desk(settings: Settings) -> ApprovalDesk:
    """Return the desk the settings ask for; a closed entry is kept one more APPROVAL_TIMEOUT."""
    keep = settings.approval_timeout
    if settings.redis_url:
        return RedisDesk.from_url(settings.redis_url, keep)
    return MemoryDesk(keep)


async def approvals_context(app: web.Application) -> AsyncIterator[None]:
    """Open the app's approval desk for its lifetime."""
    desk = make_desk(app[SETTINGS])
    app[APPROVALS] = desk
    try:
        yield
    finally:
        await desk.close()
