"""The app's resumable streams: start detached turns, serve reconnects, interrupt, check up."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Iterable

import structlog
from aiohttp import web

from formatters.base import Formatter
from formatters.events import EndEvent, ErrorEvent
from service.errors import Rejected, error_response, refusal
from service.keys import METRICS, PRINCIPAL, REGISTRY, RESUMER, SETTINGS, STREAM_SINK
from service.resume.follower import STREAM_ID_HEADER, follow
from service.resume.ids import new_stream_id, numbered, parse_event_id, stamped
from service.resume.limits import FollowerSlots
from service.resume.memory import MemoryStore
from service.resume.producer import (
    Producer,
    abandoned,
    interrupted,
    producer_lost,
    store_lost,
)
from service.resume.redis_store import RedisStore
from service.resume.store import RENEW_EVERY, StoreUnavailable, StreamMeta, StreamStore
from service.route_spec import Header, resumable
from service.settings import Settings
from service.streams.pipeline import close_events
from service.streams.registry import FormatterRegistry, UnknownFormat
from service.streams.session import StreamSession
from service.upstream import Turn

log = structlog.get_logger(__name__)

SPARE_CONNECTIONS = 64
"""Redis connections each pool has beyond its count, for the odd request and a restart."""
LIFETIME_MARGIN = 60.0
"""Seconds a running stream's keys outlive STREAM_TIMEOUT plus the window, as a safety net."""


class StreamNotFound(Rejected):
    """404: the stream is unknown, expired, or not the caller's."""

    def __init__(self) -> None:
        super().__init__(
            404,
            "Stream not found",
            "No resumable stream has this id: unknown, expired, or started by someone else.",
        )


STREAM_NOT_FOUND = refusal(
    "No resumable stream has this id: unknown, expired, started by someone else, or resumable "
    "streams are off (RESUME_WINDOW = 0).",
    when=resumable,
)
"""What `StreamNotFound` answers (a route that always looks a stream up declares it always)."""
STORE_UNAVAILABLE = refusal("The stream store does not answer.", when=resumable)
LAST_EVENT_ID = Header("Resume a stream after this frame (`<stream id>:<sequence>`).")
STREAM_ID = {STREAM_ID_HEADER: Header("The stream's id, to resume it.", when=resumable)}
"""The header a resumable stream's answer carries."""


class Resumer:
    """Resumable streams of one app: its store, the turns it runs, their periodic checkup."""

    def __init__(self, settings: Settings, store: StreamStore, registry: FormatterRegistry) -> None:
        self._settings = settings
        self.store = store
        self._registry = registry
        self._producers: dict[str, Producer] = {}
        self.followers = FollowerSlots(
            per_stream=settings.max_followers_per_stream, total=settings.follower_limit
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self.checkup_every = max(min(RENEW_EVERY, settings.resume_window / 4), 0.05)

    @property
    def running(self) -> int:
        """Turns this app runs now."""
        return len(self._producers)

    async def serve(
        self,
        session: StreamSession,
        turn: Turn,
        formatter: Formatter,
        *,
        stream_id: str | None = None,
    ) -> web.StreamResponse:
        """Run the turn detached into the store and follow it on this connection.

        `stream_id` is the stream's id if the caller chose one (fresh from new_stream_id).
        """
        request = session.request
        stream_id = stream_id or new_stream_id()
        structlog.contextvars.bind_contextvars(stream_id=stream_id)
        meta = StreamMeta(
            stream_id=stream_id,
            format=formatter.name,
            media_type=formatter.media_type,
            headers=dict(formatter.headers),
            owner=request.get(PRINCIPAL),
            conversation_id=turn.conversation_id,
        )
        try:
            await self.store.create(meta)
        except StoreUnavailable as exc:
            await close_events(turn.events)
            log.warning("stream store unavailable", reason=exc.reason)
            return error_response(503, "Unable to keep the stream", exc.reason)
        producer = Producer(
            stream_id=stream_id,
            turn=turn,
            formatter=formatter,
            store=self.store,
            budget=self._settings.resume_max_stream_bytes,
        )
        self._producers[stream_id] = producer
        session.hold()  # the turn keeps its slot after this connection ends
        task = asyncio.create_task(producer.run(session))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._producers.pop(stream_id, None))
        return await self._follow(request, meta, -1)

    async def resume(self, request: web.Request, last_event_id: str) -> web.StreamResponse:
        """Serve a reconnect that names the last frame it saw (`<stream id>:<seq>`)."""
        parsed = parse_event_id(last_event_id)
        if parsed is None:
            raise StreamNotFound()
        return await self.follow_stream(request, *parsed)

    async def follow_stream(
        self, request: web.Request, stream_id: str, after: int
    ) -> web.StreamResponse:
        """Serve the stream's frames after `after` (404 if unknown, expired or not yours).

        A follower holds one of the stream's follower slots while it is served (429 if none).
        """
        meta = await self._owned_meta(request, stream_id)
        structlog.contextvars.bind_contextvars(
            format=meta.format, conversation_id=meta.conversation_id, stream_id=stream_id
        )
        with self.followers.slot(stream_id):
            log.info("stream resumed", after=after)
            return await self._follow(request, meta, after)

    async def interrupt(self, request: web.Request, stream_id: str) -> None:
        """Stop the stream's turn on whichever replica runs it (404 if not running or yours)."""
        meta = await self._owned_meta(request, stream_id)
        if meta.done or not await self._call(self.store.claim_interrupt(stream_id)):
            raise StreamNotFound()
        log.info("stream interrupt", stream_id=stream_id)
        producer = self._producers.get(stream_id)
        if producer is not None:
            producer.stop(interrupted())

    async def _owned_meta(self, request: web.Request, stream_id: str) -> StreamMeta:
        meta = await self._call(self.store.meta(stream_id))
        if meta is None or meta.owner != request.get(PRINCIPAL):
            raise StreamNotFound()
        return meta

    async def _call[T](self, call: Awaitable[T]) -> T:
        try:
            return await call
        except StoreUnavailable as exc:
            raise Rejected(503, "Unable to reach the stream store", exc.reason) from exc

    async def _follow(
        self, request: web.Request, meta: StreamMeta, after: int
    ) -> web.StreamResponse:
        try:
            return await follow(
                request,
                self.store,
                meta,
                after,
                metrics=request.app[METRICS],
                write_timeout=self._settings.write_timeout,
                fallback=lambda seq: self._closing_frames(
                    meta.format, producer_lost(), numbered(meta.stream_id, seq)
                ),
                store_failed=lambda last_id: self._closing_frames(
                    meta.format, store_lost(), itertools.repeat(last_id)
                ),
            )
        except StoreUnavailable as exc:
            raise Rejected(503, "Unable to reach the stream store", exc.reason) from exc

    def _closing_frames(self, format_name: str, error: ErrorEvent, ids: Iterable[str]) -> list[str]:
        """Return a fresh formatter's frames of `error` and the end, stamped with `ids`."""
        try:
            formatter = self._registry.get(format_name)()
        except UnknownFormat:
            return []
        return stamped(formatter.epilogue(error, EndEvent()), ids)

    async def run_checkups(self) -> None:
        """Every little while: renew this replica's turns, stop abandoned or interrupted ones."""
        while True:
            await asyncio.sleep(self.checkup_every)
            try:
                report = await self.store.checkup(list(self._producers))
            except StoreUnavailable as exc:
                log.warning("stream store checkup failed", reason=exc.reason)
                continue
            for stream_id in report.abandoned:
                if (producer := self._producers.get(stream_id)) is not None:
                    producer.stop(abandoned(self._settings.resume_window))
            for stream_id in report.interrupted:
                if (producer := self._producers.get(stream_id)) is not None:
                    producer.stop(interrupted())

    async def close(self) -> None:
        """Cancel the turns still running and close the store."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        await self.store.close()


def make_store(settings: Settings) -> StreamStore:
    """Return the store the settings ask for: Redis with REDIS_URL, else in-process."""
    window = settings.resume_window
    if settings.redis_url:
        connections = settings.max_concurrent_streams + settings.follower_limit
        return RedisStore.from_url(
            settings.redis_url,
            window=window,
            # a turn's time limit leaves out its waits for approvals: one full wait is kept
            lifetime=settings.stream_timeout + settings.approval_timeout + window + LIFETIME_MARGIN,
            max_frames=settings.resume_max_stream_bytes // 2 + 16,
            writers=settings.max_concurrent_streams + SPARE_CONNECTIONS,
            readers=2 * connections + SPARE_CONNECTIONS,
        )
    finished = settings.max_concurrent_streams * settings.resume_max_stream_bytes
    return MemoryStore(window=window, finished_bytes=finished)


async def resume_context(app: web.Application) -> AsyncIterator[None]:
    """With RESUME_WINDOW > 0: open the store and run the checkups while the app runs."""
    settings = app[SETTINGS]
    if settings.resume_window <= 0:
        yield
        return
    store = make_store(settings)
    if isinstance(store, RedisStore):
        try:
            await store.ping()
            log.info("resumable streams", window=settings.resume_window, store="redis")
        except StoreUnavailable as exc:
            log.error("resumable streams: Redis does not answer yet", reason=exc.reason)
    else:
        log.info("resumable streams", window=settings.resume_window, store="memory")
    resumer = Resumer(settings, store, app[REGISTRY])
    app[RESUMER] = resumer
    app[STREAM_SINK] = resumer
    checkups = asyncio.create_task(resumer.run_checkups())
    try:
        yield
    finally:
        checkups.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await checkups
        await resumer.close()
