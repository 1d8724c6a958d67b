"""Stream logs: one JSON `stream start` and one `stream end` line per stream, never the prompt."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from typing import Any, Literal

import pytest
import structlog

from fakes.agents_upstream import Sleep, Status, fixture_steps
from service.keys import REGISTRY
from service.observability.log_config import configure_logging
from tests.conftest import split_frames

PROMPT = "PROMPT-zebra-4417 what is in my secret file?"
ANSWER_PIECES = ("Hello ", "fake model", "scripted answer")


def configure_into(
    log_format: Literal["json", "console"], monkeypatch: pytest.MonkeyPatch
) -> io.StringIO:
    """Configure the service's logging as `python -m service` does, writing into a buffer."""
    output = io.StringIO()
    monkeypatch.setattr(sys, "stderr", output)
    root = logging.getLogger()
    handlers, level = root.handlers, root.level
    configure_logging(log_format, "info")
    root.handlers, root.level = handlers, level  # keep pytest's own log capture as it was
    return output


@pytest.fixture
def json_logs(monkeypatch):
    """JSON logging into a buffer; returns a reader of the lines logged so far."""
    saved = structlog.get_config()
    output = configure_into("json", monkeypatch)
    yield lambda: [json.loads(line) for line in output.getvalue().splitlines()]
    structlog.configure(**saved)


def lines_of(logs: list[dict[str, Any]], request_id: str, event: str) -> list[dict[str, Any]]:
    return [
        line for line in logs if line.get("request_id") == request_id and line["event"] == event
    ]


async def test_each_stream_logs_one_start_and_one_end_line_with_its_fields(
    agents_client, fake_agents, json_logs
):
    fake_agents.steps = [Sleep(0.2), *fixture_steps("text.sse")]
    client = await agents_client(heartbeat_interval=0.1)
    names = client.server.app[REGISTRY].names()
    bodies = {}
    for name in names:
        response = await client.post(
            f"/v1/streaming_query?format={name}",
            json={"query": PROMPT},
            headers={"X-Request-ID": f"req-{name}"},
        )
        bodies[name] = split_frames(await response.read())
    logs = json_logs()
    for number, name in enumerate(names):
        (start,) = lines_of(logs, f"req-{name}", "stream start")
        (end,) = lines_of(logs, f"req-{name}", "stream end")
        conversation_id = fake_agents.sessions[number]
        assert start == {
            "event": "stream start",
            "request_id": f"req-{name}",
            "format": name,
            "conversation_id": conversation_id,
            "level": "info",
            "timestamp": start["timestamp"],
        }
        assert end["level"] == "info"
        assert end["format"] == name
        assert end["conversation_id"] == conversation_id
        assert end["outcome"] == "completed"
        assert end["frames"] == len(bodies[name])
        assert end["heartbeats"] >= 1
        assert end["first_event_seconds"] >= 0.2
        assert end["duration_seconds"] >= 0.1
        assert end["timestamp"] >= start["timestamp"]


async def test_a_failed_turn_logs_its_outcome(agents_client, fake_agents, json_logs):
    fake_agents.steps = fixture_steps("fail.sse")
    client = await agents_client()
    response = await client.post(
        "/v1/streaming_query", json={"query": PROMPT}, headers={"X-Request-ID": "req-fail"}
    )
    await response.read()
    (end,) = lines_of(json_logs(), "req-fail", "stream end")
    assert end["outcome"] == "upstream_error"


async def test_a_turn_that_cannot_start_logs_no_stream_lines(agents_client, fake_agents, json_logs):
    fake_agents.steps = [Status(500)]
    client = await agents_client()
    response = await client.post(
        "/v1/streaming_query", json={"query": PROMPT}, headers={"X-Request-ID": "req-down"}
    )
    assert response.status == 503
    logs = json_logs()
    assert lines_of(logs, "req-down", "stream start") == []
    assert lines_of(logs, "req-down", "stream end") == []
    (warning,) = lines_of(logs, "req-down", "upstream unavailable")
    assert warning["level"] == "warning"


async def test_info_lines_never_carry_the_prompt_or_the_answer(
    agents_client, fake_agents, json_logs
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    bodies = {}
    for name in client.server.app[REGISTRY].names():
        response = await client.post(f"/v1/streaming_query?format={name}", json={"query": PROMPT})
        bodies[name] = (await response.read()).decode()
    assert all(piece in bodies["patternfly"] for piece in ANSWER_PIECES)
    logs = json_logs()
    assert any(line["event"] == "stream end" for line in logs)
    text = json.dumps(logs)
    assert "PROMPT-zebra" not in text
    for piece in ANSWER_PIECES:
        assert piece not in text


def test_console_format_is_readable_text(monkeypatch):
    saved = structlog.get_config()
    try:
        output = configure_into("console", monkeypatch)
        structlog.get_logger("test").info("stream start", format="raw")
    finally:
        structlog.configure(**saved)
    line = re.sub(r"\x1b\[[0-9;]*m", "", output.getvalue()).strip()
    assert not line.startswith("{")
    assert re.fullmatch(r"\S+ \[info +\] stream start +format=raw", line), line
