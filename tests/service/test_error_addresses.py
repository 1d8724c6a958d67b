"""Readiness and 503 answers say what is wrong without the upstream's or Redis's host and port;
the log keeps them."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest
from structlog.testing import capture_logs

QUERY = {"query": "Say hello."}


def without_address(text: str, port: int) -> None:
    assert "127.0.0.1" not in text and str(port) not in text, text


def logged_with_address(
    logs: list[MutableMapping[str, Any]], event: str, key: str, port: int
) -> None:
    lines = [entry for entry in logs if entry["event"] == event]
    assert lines, f"no {event!r} line in {logs}"
    assert all("127.0.0.1" in entry[key] and str(port) in entry[key] for entry in lines), lines


@pytest.mark.parametrize("api", ["agents", "responses"])
async def test_readiness_names_no_address_of_an_unreachable_upstream(
    make_client, unused_tcp_port, api
):
    client = await make_client(
        llama_stack_base_url=f"http://127.0.0.1:{unused_tcp_port}", llama_stack_api=api
    )
    with capture_logs() as logs:
        response = await client.get("/readiness")
        text = await response.text()
    assert response.status == 503
    assert await response.json() == {
        "ready": False,
        "reason": "llama-stack is unreachable: ConnectionRefusedError: Connection refused",
    }
    without_address(text, unused_tcp_port)
    logged_with_address(logs, "upstream not ready", "detail", unused_tcp_port)


@pytest.mark.parametrize("route", ["/v1/streaming_query", "/v1/chat/completions"])
@pytest.mark.parametrize("api", ["agents", "responses"])
async def test_a_503_names_no_address_of_an_unreachable_upstream(
    make_client, unused_tcp_port, api, route
):
    client = await make_client(
        llama_stack_base_url=f"http://127.0.0.1:{unused_tcp_port}", llama_stack_api=api
    )
    body = (
        QUERY
        if route == "/v1/streaming_query"
        else {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}
    )
    with capture_logs() as logs:
        response = await client.post(route, json=body)
        text = await response.text()
    assert response.status == 503
    response_text = "Unable to connect to Llama Stack"
    cause = "llama-stack is unreachable: ConnectionRefusedError: Connection refused"
    if route == "/v1/chat/completions":  # OpenAI's error object, as the route speaks OpenAI's API
        assert (await response.json())["error"]["message"] == f"{response_text}: {cause}"
    else:
        assert (await response.json())["detail"] == {"response": response_text, "cause": cause}
    without_address(text, unused_tcp_port)
    logged_with_address(logs, "upstream unavailable", "detail", unused_tcp_port)


async def test_a_503_names_no_address_of_an_unreachable_redis(make_client, unused_tcp_port):
    client = await make_client(resume_window=30, redis_url=f"redis://127.0.0.1:{unused_tcp_port}")
    with capture_logs() as logs:
        stream = await client.post("/v1/streaming_query", json=QUERY)
        stream_text = await stream.text()
        follow = await client.get("/v1/streams/s-unknown", headers={"Last-Event-ID": "s-x:1"})
        follow_text = await follow.text()
    assert (stream.status, follow.status) == (503, 503)
    cause = "Redis is unreachable: ConnectionRefusedError: Connection refused"
    assert await stream.json() == {
        "detail": {"response": "Unable to keep the stream", "cause": cause}
    }
    assert await follow.json() == {
        "detail": {"response": "Unable to reach the stream store", "cause": cause}
    }
    without_address(stream_text + follow_text, unused_tcp_port)
    logged_with_address(logs, "Redis is unreachable", "error", unused_tcp_port)
