"""A long answer cut at 20 seeded random points, resumed each time by re-POSTing with
`Last-Event-ID` (as fetch-event-source does): the data lines equal an uninterrupted run's."""

from __future__ import annotations

import random
import types
from itertools import accumulate
from typing import Any

import pytest

import formatters.a2a
import formatters.ag_ui
import formatters.anthropic
import formatters.openai
import formatters.responses
from fakes.agents_upstream import Sleep, fixture_steps
from tests.conftest import split_frames
from tests.service.sse_reader import SseEvent, SseReader

FORMATS = ("patternfly", "raw", "openai", "responses", "vercel", "anthropic", "ag-ui", "a2a")
CUTS = 20


def paced_long_answer() -> list[Any]:
    """long.sse (303 chunks of a real llama-stack answer), a millisecond between chunks."""
    return [item for step in fixture_steps("long.sse") for item in (step, Sleep(0.001))]


def cut_points(frames: list[str], seed: int) -> list[int]:
    """Byte offsets of 20 cuts in 20 different frames (not the first: it has no id yet)."""
    rng = random.Random(seed)
    starts = [0, *accumulate(len(frame) for frame in frames)]
    chosen = sorted(rng.sample(range(1, len(frames)), CUTS))
    return [starts[index] + rng.randint(1, len(frames[index])) for index in chosen]


@pytest.mark.parametrize("format_name", FORMATS)
async def test_twenty_cuts_resumed_by_re_post_give_the_uninterrupted_data_lines(
    agents_client, fake_agents, store, monkeypatch, format_name
):
    monkeypatch.setattr(formatters.openai, "new_completion_id", lambda: "chatcmpl-fixed")
    monkeypatch.setattr(formatters.openai, "time", types.SimpleNamespace(time=lambda: 1.7e9))
    monkeypatch.setattr(formatters.responses, "time", types.SimpleNamespace(time=lambda: 1.7e9))
    monkeypatch.setattr(
        formatters.responses, "secrets", types.SimpleNamespace(token_urlsafe=lambda n: "s" * 22)
    )
    monkeypatch.setattr(formatters.anthropic, "new_message_id", lambda: "msg_fixed")
    monkeypatch.setattr(formatters.ag_ui, "new_id", lambda: "fixed-id")
    monkeypatch.setattr(formatters.a2a, "new_id", lambda: "fixed-id")
    fake_agents.steps = paced_long_answer()
    client = await agents_client(resume_window=30, heartbeat_interval=5, **store)
    url = f"/v1/streaming_query?format={format_name}"

    reference = await client.post(url, json={"query": "Tell me a long story."})
    whole = await reference.read()
    expected = SseReader()
    expected.feed(whole.decode("ascii"))
    conversation_id = fake_agents.sessions[0]
    frames = split_frames(whole)
    ends = list(accumulate(len(frame) for frame in frames))
    cuts = cut_points(frames, seed=FORMATS.index(format_name) + 11)

    body = {"query": "Tell me a long story.", "conversation_id": conversation_id}
    response = await client.post(url, json=body)
    stream_id = response.headers["X-Stream-ID"]
    reader, seen, position, connections = SseReader(), list[SseEvent](), 0, 1
    while True:
        chunk = await response.content.readany()
        if not chunk:
            break
        if cuts and position + len(chunk) >= cuts[0]:
            reader.feed(chunk[: cuts.pop(0) - position].decode("ascii"))
            response.close()
            seen += reader.events
            reader = reader.reconnected()
            assert reader.last_event_id is not None
            seq = int(reader.last_event_id.rpartition(":")[2])
            position = ends[seq]
            headers = {"Last-Event-ID": reader.last_event_id}
            response = await client.post(url, json=body, headers=headers)
            assert response.headers["X-Stream-ID"] == stream_id
            connections += 1
            continue
        reader.feed(chunk.decode("ascii"))
        position += len(chunk)
    seen += reader.events

    assert cuts == []
    assert connections == CUTS + 1
    assert [event.data for event in seen] == [event.data for event in expected.events]
    sequences = [int(event.id.rpartition(":")[2]) for event in seen if event.id]
    assert sequences == list(range(len(frames)))
    assert len(fake_agents.turns) == 2
