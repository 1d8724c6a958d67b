"""Request bodies that never finish get a 408 and a closed connection; an aborted one, one line."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from service.http.app import create_app
from service.settings import Settings
from tests.service.raw_http import exchange, wait_for_logs

HEAD = b"POST /v1/streaming_query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
UNFINISHED = {
    "shorter than its Content-Length": HEAD + b"Content-Length: 100\r\n\r\n" + b'{"query": ',
    "chunked without the last chunk": HEAD
    + b"Transfer-Encoding: chunked\r\n\r\n"
    + b'9\r\n{"query":\r\n',
}
ABANDONED = "client closed the connection before its request was complete"


def test_the_body_read_timeout_is_30_s_by_default():
    assert Settings().body_read_timeout == 30.0
    assert Settings.model_fields["body_read_timeout"].description


async def port_of(serve_like_production, **settings) -> int:
    base = await serve_like_production(create_app(Settings(demo_delay=0, **settings)))
    return int(base.rsplit(":", 1)[1])


@pytest.mark.parametrize("request_bytes", UNFINISHED.values(), ids=UNFINISHED.keys())
async def test_a_body_that_never_finishes_gets_408_json_and_the_connection_closes(
    serve_like_production, request_bytes
):
    port = await port_of(serve_like_production, body_read_timeout=0.5)
    answer = await exchange(port, request_bytes, wait=10)
    assert answer is not None, "no answer: the body is waited for forever"
    assert answer.status_line == "HTTP/1.1 408 Request Timeout"
    assert answer.headers["connection"] == "close"
    assert answer.json() == {
        "detail": {
            "response": "Request timeout",
            "cause": "The request body did not arrive complete within 0.5 s.",
        }
    }
    assert answer.closed


async def test_a_client_that_aborts_mid_body_is_logged_once_at_info_without_a_traceback(
    serve_like_production, caplog
):
    port = await port_of(serve_like_production)
    with capture_logs() as logs:
        await exchange(port, UNFINISHED["shorter than its Content-Length"], then_close=True)
        await wait_for_logs(logs, ABANDONED)
    assert [e for e in logs if e["event"] == ABANDONED] == [
        {"event": ABANDONED, "log_level": "info"}
    ]
    assert [e for e in logs if e["log_level"] in ("error", "critical", "exception")] == []
    assert [r for r in caplog.records if r.levelno >= 40 or r.exc_info] == []
