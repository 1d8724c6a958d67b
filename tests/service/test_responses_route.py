"""`POST /v1/responses` and `GET /v1/responses/{id}` in front of the fake Agents upstream:
conversations continued by id, resume by `starting_after`, and every error in OpenAI's shape."""

from __future__ import annotations

import json
from typing import Any

from fakes.agents_upstream import fixture_steps
from formatters.responses import parse_response_id, response_id
from service.http.models.responses import CLIENT_FUNCTIONS
from tests.conftest import split_frames

URL = "/v1/responses"
BODY = {"model": "vllm/fake-model", "input": "Say hello."}
ANSWER = "Hello from the fake model. This is a scripted answer."
ALICE, BOB = "alice-key-0123456789", "bob-key-0123456789ab"
KEYS = f"alice:{ALICE},bob:{BOB}"


def error(message: str, kind: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


NOT_FOUND_STREAM = error(
    "Stream not found: No resumable stream has this id: unknown, expired, or started by "
    "someone else.",
    "not_found_error",
    "stream_not_found",
)
NOT_FOUND_CONVERSATION = error(
    "Conversation not found: No conversation of yours has this id: unknown, or started by "
    "someone else.",
    "not_found_error",
    "conversation_not_found",
)


def data_of(frame: str) -> dict[str, Any]:
    (line,) = [line for line in frame.splitlines() if line.startswith("data: ")]
    return dict(json.loads(line.removeprefix("data: ")))


async def test_a_non_streamed_response_is_one_response_object(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    answer = await client.post(URL, json={**BODY, "instructions": "Be brief."})
    assert answer.status == 200
    body = await answer.json()
    assert body["status"] == "completed"
    assert body["object"] == "response"
    assert body["instructions"] == "Be brief."
    assert body["output"][0]["content"][0]["text"] == ANSWER
    assert parse_response_id(body["id"]) == (body["id"][5:27], fake_agents.sessions[0])
    assert body["conversation"] == {"id": fake_agents.sessions[0]}


async def test_stream_resumes_after_starting_after_on_the_stream_store(
    agents_client, fake_agents, store
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(resume_window=30, **store)
    first = await client.post(URL, json={**BODY, "stream": True})
    frames = split_frames(await first.read())
    events = [data_of(frame) for frame in frames]
    assert [event["sequence_number"] for event in events] == list(range(len(frames)))
    identifier = events[0]["response"]["id"]
    parsed = parse_response_id(identifier)
    assert parsed is not None
    assert first.headers["X-Stream-ID"] == parsed[0]
    again = await client.get(
        f"{URL}/{identifier}", params={"stream": "true", "starting_after": "4"}
    )
    assert again.status == 200
    assert split_frames(await again.read()) == frames[5:]
    whole = await client.get(f"{URL}/{identifier}", params={"stream": "true"})
    assert split_frames(await whole.read()) == frames
    assert len(fake_agents.turns) == 1


async def test_conversation_continues_the_owners_conversation_and_refuses_anyone_else(
    agents_client, fake_agents
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(auth_mode="api-key", auth_api_keys=KEYS)
    alice = {"Authorization": f"Bearer {ALICE}"}
    bob = {"Authorization": f"Bearer {BOB}"}
    first = await (await client.post(URL, json=BODY, headers=alice)).json()
    conversation = first["conversation"]["id"]
    by_id = await client.post(URL, json={**BODY, "conversation": conversation}, headers=alice)
    assert (await by_id.json())["conversation"] == {"id": conversation}
    by_previous = await client.post(
        URL, json={**BODY, "previous_response_id": first["id"]}, headers=alice
    )
    assert (await by_previous.json())["conversation"] == {"id": conversation}
    assert fake_agents.sessions == [conversation]
    for foreign in (
        {"conversation": {"id": conversation}},
        {"previous_response_id": first["id"]},
        {"previous_response_id": response_id("s" * 22, "no-such-conversation")},
        {"previous_response_id": "resp_unknown"},
    ):
        refused = await client.post(URL, json={**BODY, **foreign}, headers=bob)
        assert refused.status == 404, foreign
        assert await refused.json() == NOT_FOUND_CONVERSATION


async def test_errors_on_the_responses_routes_are_openais_error_object(agents_client):
    client = await agents_client(auth_mode="api-key", auth_api_keys=KEYS)
    alice = {"Authorization": f"Bearer {ALICE}"}
    tools = [{"type": "function", "name": "get_weather", "parameters": {}}]
    answers = {
        "function tools": await client.post(URL, json={**BODY, "tools": tools}, headers=alice),
        "invalid": await client.post(URL, json={"model": "m"}, headers=alice),
        "no stream": await client.get(f"{URL}/resp_x.eA", headers=alice),
        "resume off": await client.get(f"{URL}/resp_x.eA?stream=true", headers=alice),
        "no key": await client.post(URL, json=BODY),
    }
    assert {name: answer.status for name, answer in answers.items()} == {
        "function tools": 400,
        "invalid": 422,
        "no stream": 400,
        "resume off": 404,
        "no key": 401,
    }
    assert await answers["function tools"].json() == error(
        f"Unsupported request: {CLIENT_FUNCTIONS}", "invalid_request_error", "unsupported_request"
    )
    assert await answers["invalid"].json() == error(
        "Invalid request: input: Field required", "invalid_request_error", "invalid_request"
    )
    assert await answers["no stream"].json() == error(
        "Unsupported request: stream: only stream=true is supported: responses are kept as "
        "their event stream",
        "invalid_request_error",
        "unsupported_request",
    )
    assert await answers["resume off"].json() == NOT_FOUND_STREAM
    unauthorized = await answers["no key"].json()
    assert unauthorized["error"]["type"] == "authentication_error"
    assert answers["no key"].headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_bad_starting_after_and_an_unknown_stream_are_refused(agents_client, fake_agents):
    client = await agents_client(resume_window=30)
    bad = await client.get(f"{URL}/resp_x.eA", params={"stream": "true", "starting_after": "-3"})
    assert bad.status == 400
    assert await bad.json() == error(
        "Invalid request: starting_after: must be a frame sequence (0 or more)",
        "invalid_request_error",
        "invalid_request",
    )
    unknown = await client.get(f"{URL}/{response_id('s' * 22, 'c')}", params={"stream": "true"})
    assert unknown.status == 404
    assert await unknown.json() == NOT_FOUND_STREAM


async def test_other_routes_keep_the_contracts_error_shape(agents_client):
    client = await agents_client()
    answer = await client.post("/v1/streaming_query", json={})
    assert answer.status == 422
    assert set(await answer.json()) == {"detail"}
