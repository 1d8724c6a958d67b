"""Serve one connection of a resumable stream: replay the frames after an id, then follow live."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import aiohttp
import structlog
from aiohttp import web

from service.metrics import Metrics
from service.resume.store import StoreUnavailable, StreamMeta, StreamStore

log = structlog.get_logger(__name__)

STREAM_ID_HEADER = "X-Stream-ID"


def stream_headers(meta: StreamMeta) -> dict[str, str]:
    """Return the response headers of a resumable stream."""
    return {
        "Content-Type": f"{meta.media_type}; charset=utf-8",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
        **meta.headers,
        STREAM_ID_HEADER: meta.stream_id,
    }


async def follow(
    request: web.Request,
    store: StreamStore,
    meta: StreamMeta,
    after: int,
    *,
    metrics: Metrics,
    write_timeout: float,
    fallback: Callable[[], list[str]],
) -> web.StreamResponse:
    """Write the stream's frames after `after` to this client, up to the terminal frame.

    A client that leaves or stops reading only ends this connection; the turn goes on.
    """
    response = web.StreamResponse(headers=stream_headers(meta))
    await response.prepare(request)
    with metrics.active_streams.labels(meta.format).track_inprogress():
        batches = store.follow(meta.stream_id, after, fallback)
        try:
            async for batch in batches:
                try:
                    async with asyncio.timeout(write_timeout):
                        await response.write("".join(batch.frames).encode())
                except (ConnectionError, aiohttp.ClientConnectionResetError):
                    log.debug("follower left", last_seq=batch.last_seq)
                    return response
                except TimeoutError:
                    log.warning(
                        "client stopped reading, connection ended", write_timeout=write_timeout
                    )
                    return response
        except StoreUnavailable as exc:
            log.error("the stream store failed while following", reason=exc.reason)
            if request.transport is not None:
                request.transport.close()  # no terminal chunk: the client sees an error, retries
            return response
        finally:
            await batches.aclose()
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response
