"""A lean HTTP/1.1 streaming client (an asyncio protocol per stream): the benchmarks' load.

It costs the benchmark process little per byte, so the process under test is what is measured,
and it timestamps the first body byte exactly (TTFB). Requests carry `Connection: close`: the
server closing the connection marks the end of the stream.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StreamStats:
    """What one stream's client saw."""

    sent_at: float = 0.0
    head_at: float | None = None
    first_body_at: float | None = None
    ended_at: float | None = None
    status: int | None = None
    body_bytes: int = 0
    markers: int = 0
    first_marker_at: float | None = None
    head_body: bytearray = field(default_factory=bytearray)
    tail: bytes = b""
    error: str | None = None

    @property
    def ttfb(self) -> float | None:
        """Seconds from sending the request to the first byte of the body."""
        return None if self.first_body_at is None else self.first_body_at - self.sent_at

    @property
    def ttfm(self) -> float | None:
        """Seconds from sending the request to the first marker (e.g. the first token's text)."""
        return None if self.first_marker_at is None else self.first_marker_at - self.sent_at


class _StreamProtocol(asyncio.Protocol):
    def __init__(self, request: bytes, marker: bytes | None, keep: int) -> None:
        self._request = request
        self._marker = marker
        self._keep = keep
        self._head = bytearray()
        self._carry = b""
        self.stats = StreamStats()
        self.done: asyncio.Future[StreamStats] = asyncio.get_running_loop().create_future()
        self.first_body: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.first_marker: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.stats.sent_at = time.perf_counter()
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        stats = self.stats
        if stats.status is None:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            stats.head_at = time.perf_counter()
            stats.status = int(self._head[9:12])
            data = bytes(self._head[end + 4 :])
            self._head.clear()
            if not data:
                return
        if stats.first_body_at is None:
            stats.first_body_at = time.perf_counter()
            if not self.first_body.done():
                self.first_body.set_result(None)
        stats.body_bytes += len(data)
        if len(stats.head_body) < self._keep:
            stats.head_body += data[: self._keep - len(stats.head_body)]
        if self._marker is not None:
            window = self._carry + data
            stats.markers += window.count(self._marker)
            if stats.markers and stats.first_marker_at is None:
                stats.first_marker_at = time.perf_counter()
                if not self.first_marker.done():
                    self.first_marker.set_result(None)
            self._carry = window[-(len(self._marker) - 1) :] if len(self._marker) > 1 else b""
        stats.tail = (stats.tail + data)[-512:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats.ended_at = time.perf_counter()
        if exc is not None:
            self.stats.error = repr(exc)
        for waiter in (self.first_body, self.first_marker):
            if not waiter.done():
                waiter.set_result(None)
        if not self.done.done():
            self.done.set_result(self.stats)


def post_request(path: str, body: Any, port: int) -> bytes:
    """Return the bytes of a JSON POST with `Connection: close`."""
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: text/event-stream\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + payload


class Stream:
    """One open stream: await `first_body`, `done`, or `close()` it."""

    def __init__(self, protocol: _StreamProtocol) -> None:
        self._protocol = protocol

    @property
    def stats(self) -> StreamStats:
        return self._protocol.stats

    async def first_body(self) -> None:
        await self._protocol.first_body

    async def first_marker(self) -> None:
        """Wait for the first occurrence of the stream's marker (or its end)."""
        await self._protocol.first_marker

    async def done(self) -> StreamStats:
        return await self._protocol.done

    def close(self) -> None:
        if self._protocol.transport is not None:
            self._protocol.transport.close()


async def open_stream(
    port: int, path: str, body: Any, *, marker: bytes | None = None, keep: int = 0
) -> Stream:
    """Connect to 127.0.0.1:`port` and send one POST; the response is read in the background."""
    loop = asyncio.get_running_loop()
    request = post_request(path, body, port)
    _, protocol = await loop.create_connection(
        lambda: _StreamProtocol(request, marker, keep), "127.0.0.1", port
    )
    return Stream(protocol)


async def fetch(port: int, path: str, body: Any, **kwargs: Any) -> StreamStats:
    """Send one POST and read the whole streamed answer."""
    stream = await open_stream(port, path, body, **kwargs)
    return await stream.done()


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


async def run_streams(
    port: int, path: str, body: Any, *, count: int, concurrency: int, **kwargs: Any
) -> list[StreamStats]:
    """Read `count` whole streams, at most `concurrency` at a time."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> StreamStats:
        async with semaphore:
            return await fetch(port, path, body, **kwargs)

    return await asyncio.gather(*(one() for _ in range(count)))
