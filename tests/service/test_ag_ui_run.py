"""`POST /v1/ag-ui` and `?format=ag-ui`: AG-UI's run input, its events on the wire, its threads."""

from __future__ import annotations

import json
from typing import Any

from fakes.agents_upstream import Sleep, fixture_steps
from tests.conftest import split_frames

URL = "/v1/ag-ui"
RUN: dict[str, Any] = {
    "threadId": "t-1",
    "runId": "r-1",
    "messages": [{"id": "u1", "role": "user", "content": "Say hello."}],
}
ALICE, BOB = "k-alice-3f9a0c1d2e4b5a69", "k-bob-0000aaaa1111bbbb"


def events(body: bytes) -> list[dict[str, Any]]:
    """The JSON events of an AG-UI body; comments (keep-alives) left out."""
    frames = split_frames(body)
    assert all(frame.startswith(("data: {", ": keep-alive\n")) for frame in frames), frames
    return [json.loads(frame[6:]) for frame in frames if frame.startswith("data: ")]


async def test_the_wire_is_lf_only_data_frames_with_comment_keep_alives(agents_client, fake_agents):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:3], Sleep(1.5), *steps[3:]]
    client = await agents_client(heartbeat_interval=0.3)
    response = await client.post(URL, json=RUN)
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    body = await response.read()
    assert b"\r" not in body
    assert body.count(b": keep-alive\n\n") >= 3
    sent = events(body)
    assert sent[0] == {"type": "RUN_STARTED", "threadId": "t-1", "runId": "r-1"}
    assert sent[-1]["type"] == "RUN_FINISHED"
    assert (sent[-1]["threadId"], sent[-1]["runId"]) == ("t-1", "r-1")
    text = "".join(e["delta"] for e in sent if e["type"] == "TEXT_MESSAGE_CONTENT")
    assert text == "Hello from the fake model. This is a scripted answer."


async def test_a_run_input_that_is_not_one_is_a_422(agents_client):
    client = await agents_client()
    missing = await client.post(URL, json={"messages": []})
    assert missing.status == 422
    cause = (await missing.json())["detail"]["cause"]
    assert cause.startswith("threadId: Field required; runId: Field required")
    no_question = await client.post(URL, json={**RUN, "messages": []})
    assert (no_question.status, (await no_question.json())["detail"]["cause"]) == (
        422,
        "messages: the last message must be a user message",
    )
    image = {"id": "u1", "role": "user", "content": [{"type": "image", "source": {
        "type": "url", "value": "https://example.com/a.png"}}]}  # fmt: skip
    refused = await client.post(URL, json={**RUN, "messages": [image]})
    assert (refused.status, (await refused.json())["detail"]["cause"]) == (
        422,
        "messages[0].content[0]: only text parts are supported, not 'image'",
    )


async def test_one_thread_id_is_two_conversations_for_two_callers(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(auth_mode="api-key", auth_api_keys=f"alice:{ALICE},bob:{BOB}")
    for key in (ALICE, BOB, ALICE):
        response = await client.post(URL, json=RUN, headers={"Authorization": f"Bearer {key}"})
        assert events(await response.read())[-1]["type"] == "RUN_FINISHED"
    assert len(fake_agents.sessions) == 2, "alice's thread went on; bob's is his own"
    assert [turn["session_id"] for turn in fake_agents.turns] == [
        fake_agents.sessions[0],
        fake_agents.sessions[1],
        fake_agents.sessions[0],
    ]
    unauthenticated = await client.post(URL, json=RUN)
    assert unauthenticated.status == 401


async def test_format_ag_ui_on_the_streaming_query_uses_the_conversation_as_thread(
    agents_client, fake_agents
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    response = await client.post("/v1/streaming_query?format=ag-ui", json={"query": "Hi"})
    sent = events(await response.read())
    assert sent[0]["type"] == "RUN_STARTED"
    assert sent[0]["threadId"] == fake_agents.sessions[0]
    assert sent[-1]["type"] == "RUN_FINISHED"
