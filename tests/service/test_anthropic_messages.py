"""`POST /v1/messages` and `?format=anthropic`: Anthropic's requests, errors and frames."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.agents_upstream import Sleep, fixture_steps
from tests.conftest import split_frames

URL = "/v1/messages"
BODY: dict[str, Any] = {
    "model": "vllm/fake-model",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Say hello."}],
}
ANSWER = "Hello from the fake model. This is a scripted answer."
KEY = "k" * 32


def invalid(message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": "invalid_request_error", "message": message}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({k: v for k, v in BODY.items() if k != "max_tokens"}, "max_tokens: Field required"),
        ({**BODY, "max_tokens": 0}, "max_tokens: Input should be greater than or equal to 1"),
        (
            {**BODY, "messages": []},
            "messages: List should have at least 1 item after validation, not 0",
        ),
        ({**BODY, "tempreature": 1}, "tempreature: Extra inputs are not permitted"),
        (
            {**BODY, "messages": [{"role": "system", "content": "x"}]},
            "messages.0.role: Input should be 'user' or 'assistant'",
        ),
        (
            {**BODY, "messages": [*BODY["messages"], {"role": "assistant", "content": "Hi"}]},
            "messages: the last message must be a user message",
        ),
        (
            {**BODY, "messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}]},
            "messages[0].content[0]: only text blocks are supported, not 'image': the agent runs "
            "its own tools and takes text",
        ),
        ({**BODY, "thinking": {"type": "enabled"}}, "thinking: extended thinking is not supported"),
    ],
)
async def test_a_bad_request_is_anthropic_s_400(agents_client, body, message):
    client = await agents_client()
    response = await client.post(URL, json=body)
    assert (response.status, await response.json()) == (400, invalid(message))


async def test_malformed_json_and_a_body_that_is_not_json_are_400s_too(agents_client):
    client = await agents_client()
    broken = await client.post(URL, data=b"{", headers={"Content-Type": "application/json"})
    assert (broken.status, (await broken.json())["error"]["type"]) == (400, "invalid_request_error")
    text = await client.post(URL, data=b"hi", headers={"Content-Type": "text/plain"})
    assert (text.status, (await text.json())["error"]["type"]) == (400, "invalid_request_error")


async def test_without_credentials_it_is_anthropic_s_401_and_its_sdk_s_header_is_accepted(
    agents_client, fake_agents
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(auth_mode="api-key", auth_api_keys=KEY)
    refused = await client.post(URL, json=BODY)
    assert refused.status == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await refused.json())["error"]["type"] == "authentication_error"
    accepted = await client.post(URL, json=BODY, headers={"X-Api-Key": KEY})
    assert accepted.status == 200
    assert (await accepted.json())["content"] == [{"type": "text", "text": ANSWER}]
    wrong = await client.post(URL, json=BODY, headers={"X-Api-Key": "x" * 32})
    assert wrong.status == 401


async def test_too_many_streams_and_too_large_a_body_are_anthropic_s_429_and_413(
    agents_client, fake_agents
):
    fake_agents.steps = [*fixture_steps("text.sse")[:2], Sleep(30)]
    client = await agents_client(max_concurrent_streams=1, max_body_bytes=4096)
    first = await client.post(URL, json={**BODY, "stream": True})
    await first.content.readuntil(b"\n\n")
    second = await client.post(URL, json=BODY)
    assert (second.status, second.headers["Retry-After"]) == (429, "1")
    assert (await second.json())["error"]["type"] == "rate_limit_error"
    first.close()
    large = await client.post(URL, json={**BODY, "system": "x" * 5000})
    assert (large.status, (await large.json())["error"]["type"]) == (413, "request_too_large")


async def test_format_anthropic_on_the_streaming_query_is_the_same_event_stream(
    agents_client, fake_agents
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    response = await client.post("/v1/streaming_query?format=anthropic", json={"query": "Hi"})
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    frames = split_frames(await response.read())
    kinds = [frame.split("\n", 1)[0] for frame in frames]
    assert kinds[:2] == ["event: message_start", "event: content_block_start"]
    assert kinds[-3:] == [
        "event: content_block_stop",
        "event: message_delta",
        "event: message_stop",
    ]
    assert '"model":"llama-stack-agent","content":[],' in frames[0]
    assert f'"conversation_id":"{fake_agents.sessions[0]}"' in frames[0]


async def test_a_conversation_id_continues_the_conversation_with_only_the_last_message(
    agents_client, fake_agents
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    first = await (await client.post(URL, json=BODY)).json()
    history = [
        *BODY["messages"],
        {"role": "assistant", "content": ANSWER},
        {"role": "user", "content": [{"type": "text", "text": "And again?"}]},
    ]
    again = {**BODY, "messages": history, "conversation_id": first["conversation_id"]}
    second = await client.post(URL, json=again)
    assert second.status == 200
    assert len(fake_agents.sessions) == 1
    contents = [turn["body"]["messages"][0]["content"] for turn in fake_agents.turns]
    assert contents == ["Say hello.", "And again?"]
    fresh = await client.post(URL, json={**BODY, "messages": history, "system": "Be brief."})
    assert fresh.status == 200
    assert fake_agents.turns[-1]["body"]["messages"][0]["content"] == (
        f"user: Say hello.\n\nassistant: {ANSWER}\n\nuser: And again?"
    )
