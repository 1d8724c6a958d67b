"""One stream session: a turn's slot, span, metrics, response headers and start/end log lines."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import structlog
from aiohttp import web

from formatters.base import EVENT_STREAM, ApprovalChannel, Formatter
from service.approvals.resolve import resolve_decisions
from service.conversations.owners import request_owner
from service.keys import ACTIVE_STREAMS, APPROVALS, METRICS, SETTINGS, STREAM_SINK, UPSTREAM
from service.observability.tracing import span
from service.streams.approval_turn import ApprovalContext, with_approvals
from service.streams.pipeline import (
    CANCELLED,
    EndBuilder,
    FrameBuffer,
    Stop,
    StreamResult,
    WriteBuffer,
    close_events,
    pump_batches,
)
from service.streams.unavailable import unavailable
from service.upstream import Turn, UpstreamUnavailable
from service.upstream.turn import TurnRequest

log = structlog.get_logger(__name__)


def sse_headers(media_type: str, headers: Mapping[str, str]) -> dict[str, str]:
    """Return a stream's response headers: its media type, never cached or buffered, its own."""
    return {
        "Content-Type": f"{media_type}; charset=utf-8",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
        **headers,
    }


class Sink(Protocol):
    """Where a session's turn goes: to its client (`DirectSink`), or into the resume store."""

    async def serve(
        self,
        session: StreamSession,
        turn: Turn,
        formatter: Formatter,
        *,
        stream_id: str | None = None,
    ) -> web.StreamResponse:
        """Answer the session's request with the turn, run through `session.streaming`.

        `stream_id` names the stream where streams are kept (a resume store), if the caller
        chose it.
        """
        ...


@dataclass(slots=True)
class Ending:
    """What the session's end line reports: the stream's result, None if it never came."""

    result: StreamResult | None = None


class StreamSession:
    """One request's turn, from its stream slot to its end line.

    The slot is taken on creation (Rejected: 429 when full, 503 when draining) and held by the
    request (`with`) and by whatever still runs the turn after it (`hold`); the last to
    `release` gives it back.
    """

    def __init__(self, request: web.Request) -> None:
        app = request.app
        self.request = request
        self.settings = app[SETTINGS]
        self._active = app[ACTIVE_STREAMS]
        self._active.admit(self.settings.max_concurrent_streams)
        self._holds = 1
        self._loop = asyncio.get_running_loop()
        self._asked_at = self._loop.time()
        self.label = ""

    def __enter__(self) -> StreamSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def hold(self) -> None:
        """Keep the slot for a turn that runs on after the request; it calls `release`."""
        self._holds += 1

    def release(self) -> None:
        """Let go of the slot; the last holder gives it back."""
        self._holds -= 1
        if self._holds == 0:
            self._active.closed()

    @property
    def stop(self) -> asyncio.Future[None]:
        """The signal that ends the turn early: the service is draining."""
        return self._active.stop_signal()

    async def start_turn(
        self, query: TurnRequest, label: str, approvals: ApprovalChannel = "request"
    ) -> Turn | web.Response:
        """Ask the upstream for the turn, named `label` in logs and metrics; 503 if it cannot.

        The approval decisions the query carries are checked and filled in first (404, 409);
        the turn pauses at its own approval requests as the `approvals` channel says.
        """
        self.label = label
        structlog.contextvars.bind_contextvars(format=label)
        self._asked_at = self._loop.time()
        desk, owner = self.request.app.get(APPROVALS), request_owner(self.request)
        query = await resolve_decisions(desk, query, owner)
        try:
            turn = await self._upstream_turn(query)
        except UpstreamUnavailable as exc:
            if desk is not None and query.approval_decisions:  # so that a retry may decide
                await desk.reopen(d.approval_id for d in query.approval_decisions)
            return unavailable(exc)
        structlog.contextvars.bind_contextvars(conversation_id=turn.conversation_id)
        if desk is None:
            return turn
        context = ApprovalContext(
            approvals, desk, owner, self.settings.approval_timeout, self._upstream_turn
        )
        return with_approvals(turn, query, context)

    async def _upstream_turn(self, query: TurnRequest) -> Turn:
        """Start a turn upstream for this request's caller (UpstreamUnavailable if it cannot)."""
        upstream = self.request.app[UPSTREAM]
        with span(self.request, "upstream start_turn", client=True, upstream=upstream.name):
            return await upstream.start_turn(query, owner=request_owner(self.request))

    async def stream(
        self,
        query: TurnRequest,
        formatter: Formatter,
        *,
        stream_id: str | None = None,
        on_start: Callable[[Turn], Awaitable[None]] | None = None,
    ) -> web.StreamResponse:
        """Start the turn and stream it in `formatter`'s format through the app's sink.

        `on_start` is awaited once the upstream started the turn, before any frame goes out;
        `stream_id` is the stream's id in a resume store, if the caller chose it.
        """
        turn = await self.start_turn(query, formatter.name, formatter.approvals)
        if isinstance(turn, web.Response):
            return turn
        if on_start is not None:
            try:
                await on_start(turn)
            except BaseException:
                await close_events(turn.events)
                raise
        framed = formatter.media_type == EVENT_STREAM  # text/plain: no resume store
        sink = (self.request.app.get(STREAM_SINK) if framed else None) or DIRECT
        return await sink.serve(self, turn, formatter, stream_id=stream_id)

    async def pump(
        self,
        turn: Turn,
        formatter: Formatter,
        buffer: FrameBuffer,
        *,
        interrupt: asyncio.Future[Stop] | None = None,
        end: EndBuilder | None = None,
    ) -> StreamResult:
        """Pump the turn into `buffer` with the service's heartbeat, timeout and drain signal."""
        return await pump_batches(
            turn,
            formatter,
            buffer,
            # a stream that is no event stream (text/plain) has no keep-alive to send
            heartbeat_interval=(
                self.settings.heartbeat_interval
                if formatter.media_type == EVENT_STREAM
                else math.inf
            ),
            stream_timeout=self.settings.stream_timeout,
            stop=self.stop,
            interrupt=interrupt,
            end=end,
        )

    @contextlib.contextmanager
    def streaming(self, kind: str = "stream") -> Iterator[Ending]:
        """Log `<kind> start`, run the block in the stream's span; then log, count, release.

        The block sets the `Ending`'s result; without one (the handler was cancelled) the
        outcome is `cancelled`. The session's hold is released on the way out.
        """
        log.info(f"{kind} start")
        started = self._loop.time()
        ending = Ending()
        try:
            with span(self.request, "stream", format=self.label) as stream_span:
                yield ending
                if ending.result is not None:
                    stream_span.set_attribute("stream.outcome", ending.result.outcome.value)
                    stream_span.set_attribute("stream.frames", ending.result.frames)
        finally:
            self.release()
            self._ended(kind, ending.result, started)

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """Count this session in the active-streams gauge while the block runs."""
        gauge = self.request.app[METRICS].active_streams.labels(self.label)
        return gauge.track_inprogress()

    def _ended(self, kind: str, result: StreamResult | None, started: float) -> None:
        """Log the session's one end line and record it in the metrics."""
        duration = self._loop.time() - started
        first_event = None
        if result is not None and result.first_event_seconds is not None:
            first_event = started - self._asked_at + result.first_event_seconds
        outcome = result.outcome.value if result is not None else CANCELLED
        frames = result.frames if result is not None else 0
        heartbeats = result.heartbeats if result is not None else 0
        tokens = (result.input_tokens, result.output_tokens) if result is not None else (0, 0)
        log.info(
            f"{kind} end",
            outcome=outcome,
            duration_seconds=round(duration, 4),
            frames=frames,
            heartbeats=heartbeats,
            first_event_seconds=None if first_event is None else round(first_event, 4),
            input_tokens=tokens[0],
            output_tokens=tokens[1],
        )
        self.request.app[METRICS].stream_ended(
            self.label,
            outcome,
            frames=frames,
            heartbeats=heartbeats,
            duration=duration,
            first_event=first_event,
            tokens=tokens,
        )


class DirectSink:
    """Streams a session's turn straight to its client, on the request's connection."""

    async def serve(
        self,
        session: StreamSession,
        turn: Turn,
        formatter: Formatter,
        *,
        stream_id: str | None = None,
    ) -> web.StreamResponse:
        """Prepare the SSE response and pump the turn into it, ending with its terminal frame."""
        response = web.StreamResponse(headers=sse_headers(formatter.media_type, formatter.headers))
        try:
            await response.prepare(session.request)
        except BaseException:
            await close_events(turn.events)
            raise
        session.hold()
        with session.streaming() as ending, session.writing():
            buffer = WriteBuffer(response.write, session.settings.write_timeout)
            ending.result = await session.pump(turn, formatter, buffer)
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return response


DIRECT = DirectSink()
