"""Prometheus metrics: one registry per app, what streams and rejected requests did, `/metrics`."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from service.errors import CONTRACT_ERROR
from service.keys import METRICS
from service.observability.process import MULTIPROC_ENV
from service.route_spec import TEXT, Answer, declare

PREFIX = "agent_stream_gateway"
ACTIVE_STREAMS_METRIC = f"{PREFIX}_active_streams"
"""The gauge the HorizontalPodAutoscaler scales on (deploy/base/hpa.yaml)."""

REJECTION_REASONS = {
    400: "bad_format",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_body",
    429: "too_many_streams",
    503: "upstream_unavailable",
}
"""Why a request was refused, by the status of its contract error (400 is an unknown format)."""

# No `_created` twin of every counter series: half the series to store (untyped in the library).
disable_created_metrics()  # type: ignore[no-untyped-call]

TOKEN_DIRECTIONS = ("input", "output")
"""The `direction` label of the token counter: tokens the model read, tokens it wrote."""

_FIRST_EVENT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_DURATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0)


class Metrics:
    """The service's metrics, in a registry of their own (several apps never share one).

    Under `--workers N` (PROMETHEUS_MULTIPROC_DIR set) each worker writes its values to files
    there and `registry` reads every worker's: counters and histograms are summed over the
    workers, the active-streams gauge over the live ones; the process and platform metrics of
    one worker would be wrong for the whole, so they are left out.
    """

    def __init__(self, formats: Iterable[str] = (), outcomes: Sequence[str] = ()) -> None:
        """Make the metrics; each format's series and each (format, outcome) start at 0.

        `outcomes` are the labels a stream's end can carry (the layers above name them), so
        rates work from the first stream.
        """
        self.registry = CollectorRegistry()
        own = self.registry
        if MULTIPROC_ENV in os.environ:
            own = CollectorRegistry()  # this worker's metrics, read back through the files
            MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]
        else:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
        self.active_streams = Gauge(
            ACTIVE_STREAMS_METRIC,
            "Streams being written to clients right now, by format (non-streamed answers too).",
            ["format"],
            registry=own,
            multiprocess_mode="livesum",
        )
        self.streams = Counter(
            f"{PREFIX}_streams",
            "Streams that ended, by format and outcome.",
            ["format", "outcome"],
            registry=own,
        )
        self.frames = Counter(
            f"{PREFIX}_frames",
            "SSE frames written to clients (heartbeats included), by format.",
            ["format"],
            registry=own,
        )
        self.heartbeats = Counter(
            f"{PREFIX}_heartbeats",
            "Timer heartbeats written to clients, by format.",
            ["format"],
            registry=own,
        )
        self.tokens = Counter(
            f"{PREFIX}_tokens",
            "Model tokens the upstream reported for the streams that ended (failed and "
            "interrupted ones too: what it reported before), by format and direction.",
            ["format", "direction"],
            registry=own,
        )
        self.first_event = Histogram(
            f"{PREFIX}_upstream_first_event_seconds",
            "From asking the upstream for a turn to its first event, by format.",
            ["format"],
            buckets=_FIRST_EVENT_BUCKETS,
            registry=own,
        )
        self.duration = Histogram(
            f"{PREFIX}_stream_duration_seconds",
            "From the first frame of a stream to its end, by format.",
            ["format"],
            buckets=_DURATION_BUCKETS,
            registry=own,
        )
        self.rejected = Counter(
            f"{PREFIX}_rejected_requests",
            "Requests refused with a contract error, by reason.",
            ["reason"],
            registry=own,
        )
        for reason in REJECTION_REASONS.values():
            self.rejected.labels(reason)
        for name in formats:
            self.active_streams.labels(name)
            self.frames.labels(name)
            self.heartbeats.labels(name)
            for direction in TOKEN_DIRECTIONS:
                self.tokens.labels(name, direction)
            for outcome in outcomes:
                self.streams.labels(name, outcome)

    def stream_ended(
        self,
        format_name: str,
        outcome: str,
        *,
        frames: int,
        heartbeats: int,
        duration: float,
        first_event: float | None,
        tokens: tuple[int, int] = (0, 0),
    ) -> None:
        """Record one stream that ended; `tokens`: the input and output tokens it reported."""
        self.streams.labels(format_name, outcome).inc()
        for direction, count in zip(TOKEN_DIRECTIONS, tokens, strict=True):
            self.tokens.labels(format_name, direction).inc(count)
        self.frames.labels(format_name).inc(frames)
        self.heartbeats.labels(format_name).inc(heartbeats)
        self.duration.labels(format_name).observe(duration)
        if first_event is not None:
            self.first_event.labels(format_name).observe(first_event)

    def reject(self, status: int) -> None:
        """Count a request refused with this status; server failures (5xx but 503) are not."""
        if status in REJECTION_REASONS or 400 <= status < 500:
            self.rejected.labels(REJECTION_REASONS.get(status, f"http_{status}")).inc()


metrics_routes = web.RouteTableDef()


@metrics_routes.get("/metrics")
@declare(
    "Prometheus metrics (OpenMetrics if the Accept header asks for it).",
    {
        200: Answer(
            "The metrics in text format.",
            content={"text/plain": TEXT, "application/openmetrics-text": TEXT},
        )
    },
)
async def metrics(request: web.Request) -> web.Response:
    """Expose the app's metrics in the Prometheus (or, if asked, OpenMetrics) text format."""
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return web.Response(
        body=encode(request.app[METRICS].registry), headers={"Content-Type": content_type}
    )


@web.middleware
async def count_rejections(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every contract error a handler answers with (probe answers are not refusals)."""
    response = await handler(request)
    if response.get(CONTRACT_ERROR):
        request.app[METRICS].reject(response.status)
    return response
