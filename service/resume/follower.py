"""Serve one connection of a resumable stream: replay the frames after an id, then follow live."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable

import aiohttp
import structlog
from aiohttp import web

from service.observability.metrics import Metrics
from service.resume.ids import event_id
from service.resume.store import Batch, Fallback, StoreUnavailable, StreamMeta, StreamStore
from service.route_spec import Answer, Header, resumable
from service.streams.session import sse_headers

log = structlog.get_logger(__name__)

STREAM_ID_HEADER = "X-Stream-ID"
NOTHING_AFTER = Answer(
    "The stream has ended with nothing after the given frame (an EventSource stops).",
    headers={STREAM_ID_HEADER: Header("The stream's id.", required=True)},
    when=resumable,
)
"""What `follow` answers when nothing is left to send."""


def stream_headers(meta: StreamMeta) -> dict[str, str]:
    """Return the response headers of a resumable stream."""
    return sse_headers(meta.media_type, {**meta.headers, STREAM_ID_HEADER: meta.stream_id})


async def follow(
    request: web.Request,
    store: StreamStore,
    meta: StreamMeta,
    after: int,
    *,
    metrics: Metrics,
    write_timeout: float,
    fallback: Fallback,
    store_failed: Callable[[str], list[str]],
) -> web.StreamResponse:
    """Write the stream's frames after `after` to this client, up to the terminal frame.

    A stream that has ended with nothing after `after` answers 204, the SSE spec's "stop
    reconnecting" (StoreUnavailable if the store cannot say). A client that leaves or stops
    reading only ends this connection; the turn goes on. If the store fails mid-stream, the
    client gets `store_failed`'s error and terminal frames, all stamped with the id it gives.
    """
    batches = store.follow(meta.stream_id, after, fallback)
    try:
        first = await anext(batches, None) if meta.done else None
        if meta.done and first is None:
            log.info("stream resumed at its end", after=after)
            return web.Response(status=204, headers={STREAM_ID_HEADER: meta.stream_id})
        response = web.StreamResponse(headers=stream_headers(meta))
        await response.prepare(request)
        with metrics.active_streams.labels(meta.format).track_inprogress():
            if not await _write_all(
                response,
                batches,
                first,
                write_timeout,
                store_failed,
                stream_id=meta.stream_id,
                after=after,
            ):
                return response
    finally:
        await batches.aclose()
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response


async def _write_all(
    response: web.StreamResponse,
    batches: AsyncGenerator[Batch, None],
    first: Batch | None,
    write_timeout: float,
    store_failed: Callable[[str], list[str]],
    *,
    stream_id: str,
    after: int,
) -> bool:
    """Write `first` and the rest of the batches; False if the client left or stalled.

    A store failure ends the connection with `store_failed`'s frames, stamped with the id of
    the last frame sent, so that a reconnect resumes from there.
    """
    cursor = after
    try:
        if first is not None:
            if not await _write(response, first.frames, write_timeout):
                return False
            cursor = first.last_seq
        async for batch in batches:
            if not await _write(response, batch.frames, write_timeout):
                return False
            cursor = batch.last_seq
    except StoreUnavailable as exc:
        log.warning("the stream store failed; ending this connection", reason=exc.reason)
        last_id = event_id(stream_id, cursor) if cursor >= 0 else ""
        return await _write(response, store_failed(last_id), write_timeout)
    return True


async def _write(response: web.StreamResponse, frames: list[str], write_timeout: float) -> bool:
    """Write frames to the client; False (logged) if it left or stopped reading."""
    try:
        async with asyncio.timeout(write_timeout):
            await response.write("".join(frames).encode())
    except (ConnectionError, aiohttp.ClientConnectionResetError):
        log.debug("follower left")
        return False
    except TimeoutError:
        log.warning("client stopped reading, connection ended", write_timeout=write_timeout)
        return False
    return True
