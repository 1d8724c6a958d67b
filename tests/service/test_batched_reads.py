"""Events the upstream writes together reach the client as the same bytes as events written apart."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fakes.agents_upstream import FakeAgentsUpstream, Step, fixture_steps
from service.streams.registry import load_registry

QUERY = {"query": "Say hello."}
FIXTURES = ["text.sse", "long.sse", "tool.sse", "mcp.sse", "shield.sse", "fail-mid.sse"]
_VARYING = re.compile(
    rb"msg_[0-9a-f]{32}|chatcmpl-[0-9a-zA-Z]+|\"created\": ?\d+|(resp|msg)_[A-Za-z0-9_-]{22}"
    rb"|\"created_at\":\d+"
    rb"|\"request_id\": \"[0-9a-f-]+\""
    rb"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
"""What differs between two turns of the openai and anthropic formats (their ids and
timestamps), of `lightspeed-0.4`/`lightspeed-0.7` (their request id) and of `ag-ui` (its uuids)."""
_ID_LINE = re.compile(rb"^id: .*\n", re.MULTILINE)


def together(steps: list[Step]) -> list[Step]:
    """The fixture's frames in one upstream write."""
    return [b"".join(step for step in steps if isinstance(step, bytes))]


async def body(client: Any, fake: FakeAgentsUpstream, steps: list[Step], fmt: str) -> bytes:
    fake.steps = steps
    query = {**QUERY, "conversation_id": fake.sessions[0]} if fake.sessions else QUERY
    response = await client.post(f"/v1/streaming_query?format={fmt}", json=query)
    assert response.status == 200
    return _VARYING.sub(b"<varies>", await response.read())


@pytest.mark.parametrize("fmt", load_registry().names())
@pytest.mark.parametrize("fixture", FIXTURES)
async def test_a_fixture_sent_in_one_write_gives_the_client_the_bytes_of_one_write_a_frame(
    agents_client, fake_agents, fmt, fixture
):
    client = await agents_client()
    apart = await body(client, fake_agents, fixture_steps(fixture), fmt)
    joined = await body(client, fake_agents, together(fixture_steps(fixture)), fmt)
    assert joined == apart
    assert len(fake_agents.sessions) == 1  # both turns in one conversation: same start frame


async def test_chunks_after_an_error_chunk_in_the_same_write_are_dropped_as_when_apart(
    agents_client, fake_agents
):
    steps = fixture_steps("fail.sse")
    error_at = next(i for i, s in enumerate(steps) if isinstance(s, bytes) and b'"error"' in s)
    extra = fixture_steps("text.sse")[1:4]
    client = await agents_client()
    apart = await body(client, fake_agents, [*steps[: error_at + 1], *extra], "raw")
    joined = await body(client, fake_agents, together([*steps[: error_at + 1], *extra]), "raw")
    assert joined == apart
    names = [line for line in joined.split(b"\n") if line.startswith(b"event: ")]
    assert names == [b"event: start", b"event: step_start", b"event: turn_error", b"event: end"]


async def test_a_resumable_stream_over_its_budget_stops_at_the_same_frame_either_way(
    agents_client, fake_agents
):
    client = await agents_client(resume_window=30, resume_max_stream_bytes=4000)
    steps = fixture_steps("long.sse")
    apart = _ID_LINE.sub(b"", await body(client, fake_agents, steps, "patternfly"))
    joined = _ID_LINE.sub(b"", await body(client, fake_agents, together(steps), "patternfly"))
    assert joined == apart
    assert b'"token": "The answer grew past the 4000 bytes' in joined
