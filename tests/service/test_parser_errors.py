"""Requests aiohttp's HTTP parser refuses: its own 400 (documented), logged at info, not error.

aiohttp answers these before any route or middleware runs and has no public API to change that
answer (aio-libs/aiohttp#3287), so the exact bytes it sends are pinned here: `HTTP/1.0 400 Bad
Request`, `Content-Type: text/plain; charset=utf-8`, the parser's message as the body, and the
connection closed.
"""

from __future__ import annotations

import logging

import pytest

from service.http.app import create_app
from service.settings import Settings
from tests.service.raw_http import exchange

MALFORMED = {
    "oversized request line": (
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        "LineTooLong",
        b"Got more than 8190 bytes when reading: bytearray(b'/" + b"a" * 99 + b"...').",
    ),
    "oversized header": (
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
        "LineTooLong",
        b"Got more than 8190 bytes when reading: b'" + b"a" * 100 + b"...'.",
    ),
    "bad chunking": (
        b"POST /v1/streaming_query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        "BadHttpMessage",
        b"Invalid character in chunk size:\n\n  b'zz'\n    ^",
    ),
    "bad method": (
        b"FO\x01O / HTTP/1.1\r\nHost: x\r\n\r\n",
        "BadHttpMethod",
        b"Invalid method encountered:\n\n  b'FO\\x01O / HTTP/1.1'\n     ^",
    ),
}
QUIETER = {"BadHttpMethod": "DEBUG"}
"""aiohttp logs a bad method on a connection's first request at debug itself (non-HTTP traffic
on the port is noise on the internet); it stays there, without its traceback."""


@pytest.mark.parametrize(("request_bytes", "error", "body"), MALFORMED.values(), ids=MALFORMED)
async def test_a_request_the_parser_refuses_is_aiohttps_400_logged_at_info(
    serve_like_production, caplog, request_bytes, error, body
):
    base = await serve_like_production(create_app(Settings(demo_delay=0)))
    port = int(base.rsplit(":", 1)[1])
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    answer = await exchange(port, request_bytes)
    assert answer is not None
    assert answer.status_line == "HTTP/1.0 400 Bad Request"
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.body == body
    assert answer.closed
    server = [r for r in caplog.records if r.name == "aiohttp.server"]
    level = QUIETER.get(error, "INFO")
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in server] == [
        (level, f"malformed request refused by the HTTP parser: {error} (HTTP 400)", None)
    ]
