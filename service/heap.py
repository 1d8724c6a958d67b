"""A service process and the garbage collector: its start-up heap frozen out of collections."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the parent of `--workers N` imports this module, and needs no aiohttp
    from aiohttp import web


async def settle_heap(app: web.Application) -> None:
    """Collect once, then leave every object alive now out of later collections (`gc.freeze`).

    The modules, pydantic schemas and clients a process starts with (some 130,000 tracked
    objects) live as long as it does; unfrozen, each full collection walks them all and stops
    the event loop for tens of milliseconds while streams wait (75 ms for that heap alone, up
    to 125 ms under bench/ttfb.py's busy load: measured 2026-12-01, bench/README.md).
    """
    gc.collect()
    gc.freeze()
