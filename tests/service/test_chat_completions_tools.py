"""Chat completions and tools: the agent's stay aside, the client's own go to it and come back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from fakes.agents_upstream import FakeAgentsUpstream
from fakes.agents_upstream import fixture_steps as agents_steps
from fakes.responses_upstream import WEATHER_TOOL, FakeResponsesUpstream, fixture_steps
from formatters.call_ids import client_call_id
from formatters.events import EVENT_ADAPTER
from tests.conftest import MakeClient, split_frames

URL = "/v1/chat/completions"
QUESTION = {"role": "user", "content": "What is the weather in Paris?"}
CHAT = {"model": "openai/fake-model", "messages": [QUESTION], "tools": [WEATHER_TOOL]}
WEATHER = '{"city": "test", "temperature_c": 21, "sky": "clear"}'
ANSWER = f"The tool returned: {WEATHER}"
ASIDE = ("start", "tool_call", "tool_result", "documents", "shield", "turn_awaiting_input", "end")
"""The normalized events the `openai` format carries in `gateway_event`."""


@pytest.fixture
async def client(make_client: MakeClient, responses_server: TestServer) -> TestClient[Any, Any]:
    return await make_client(llama_stack_base_url=str(responses_server.make_url("/")))


def chunks(body: bytes) -> list[dict[str, Any]]:
    frames = split_frames(body)
    assert frames[-1] == "data: [DONE]\n\n"
    return [json.loads(frame.removeprefix("data: ")) for frame in frames[:-1]]


async def raw_events(
    client: TestClient[Any, Any], fake_responses: FakeResponsesUpstream
) -> list[Any]:
    """The `raw` format's events of the same scripted turn, as the activity to compare with."""
    response = await client.post("/v1/streaming_query?format=raw", json={"query": "Weather?"})
    frames = split_frames(await response.read())
    return [
        json.loads(line.removeprefix("data: "))
        for f in frames
        for line in f.splitlines()
        if line.startswith("data: ")
    ]


def activity(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events of the agent's activity: those carried aside, less the per-turn start."""
    return [event for event in events if event["type"] in ASIDE and event["type"] != "start"]


@pytest.mark.parametrize("stream", [True, False])
async def test_the_agents_own_tool_run_is_aside_complete_and_never_tool_calls(
    client, fake_responses, stream
):
    fake_responses.steps = fixture_steps("mcp.sse")
    response = await client.post(URL, json={**CHAT, "stream": stream})
    assert response.status == 200
    if stream:
        received = chunks(await response.read())
        deltas = [choice["delta"] for chunk in received for choice in chunk["choices"]]
        assert all("tool_calls" not in delta for delta in deltas)
        assert "".join(delta.get("content", "") for delta in deltas) == (
            'The tool returned: {"city": "test", "temperature_c": 21, "sky": "clear", '
            '"source": "mcp"}'
        )
        assert [c["choices"][0]["finish_reason"] for c in received if c["choices"]][-1] == "stop"
        aside = [chunk["gateway_event"] for chunk in received if "gateway_event" in chunk]
    else:
        completion = await response.json()
        (choice,) = completion["choices"]
        assert choice["finish_reason"] == "stop"
        assert "tool_calls" not in choice["message"]
        aside = completion["gateway_events"]
    expected = await raw_events(client, fake_responses)
    assert activity(aside) == activity(expected)
    assert [e["type"] for e in activity(aside)] == ["tool_call", "tool_call", "tool_result", "end"]
    for event in aside:
        EVENT_ADAPTER.validate_python(event)  # each one the normalized event the raw format sends


async def test_the_clients_function_goes_upstream_and_its_call_comes_back_as_tool_calls(
    client, fake_responses
):
    fake_responses.steps = fixture_steps("tool.sse")
    body = {**CHAT, "stream": True, "tool_choice": "required"}
    received = chunks(await (await client.post(URL, json=body)).read())
    (request,) = fake_responses.requests
    assert request["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": WEATHER_TOOL["function"]["parameters"],
            "description": "Get the current weather for a city",
        }
    ]
    assert request["tool_choice"] == "required"
    conversation = request["conversation"]
    calls = [
        call
        for chunk in received
        for choice in chunk["choices"]
        for call in choice["delta"].get("tool_calls", ())
    ]
    assert calls == [
        {
            "index": 0,
            "id": client_call_id(conversation, "call_fake_0001"),
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"test"}'},
        }
    ]
    assert [c["choices"][0]["finish_reason"] for c in received if c["choices"]][-1] == "tool_calls"


async def test_tool_messages_continue_the_paused_turn_in_its_conversation(client, fake_responses):
    fake_responses.turns = [fixture_steps("tool.sse"), fixture_steps("tool-result.sse")]
    first = await (await client.post(URL, json=CHAT)).json()
    (call,) = first["choices"][0]["message"]["tool_calls"]
    assert first["choices"][0]["finish_reason"] == "tool_calls"
    assert first["choices"][0]["message"]["content"] is None
    messages = [
        QUESTION,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": WEATHER},
    ]
    second = await (await client.post(URL, json={**CHAT, "messages": messages})).json()
    assert second["choices"][0]["message"]["content"] == ANSWER
    assert second["choices"][0]["finish_reason"] == "stop"
    opened, continued = fake_responses.requests
    assert continued["conversation"] == opened["conversation"]
    assert continued["input"] == [
        {"type": "function_call_output", "call_id": "call_fake_0001", "output": WEATHER}
    ]
    assert continued["tools"] == opened["tools"]


async def test_a_forced_function_is_the_upstreams_tool_choice(client, fake_responses):
    fake_responses.steps = fixture_steps("tool.sse")
    choice = {"type": "function", "function": {"name": "get_weather"}}
    response = await client.post(URL, json={**CHAT, "tool_choice": choice})
    assert response.status == 200
    assert fake_responses.requests[0]["tool_choice"] == {"type": "function", "name": "get_weather"}


async def test_tool_messages_of_two_conversations_are_refused(client):
    ids = [client_call_id(conversation, "c") for conversation in ("conv_a", "conv_b")]
    messages = [QUESTION] + [
        {"role": "tool", "tool_call_id": call_id, "content": "x"} for call_id in ids
    ]
    response = await client.post(URL, json={**CHAT, "messages": messages})
    assert response.status == 422
    assert (await response.json())["error"]["message"] == (
        "Unsupported request: messages: the tool messages answer tool calls of different "
        "conversations"
    )


async def test_the_agents_upstream_refuses_client_functions_with_a_clear_422(
    make_client, agents_server: TestServer, fake_agents: FakeAgentsUpstream
):
    fake_agents.steps = agents_steps("text.sse")
    client = await make_client(
        llama_stack_base_url=str(agents_server.make_url("/")), llama_stack_api="agents"
    )
    response = await client.post(URL, json=CHAT)
    assert response.status == 422
    assert await response.json() == {
        "error": {
            "message": "Unsupported request: tools: the agents upstream cannot offer the "
            "client's own functions to the model; use the responses upstream "
            "(LLAMA_STACK_API=responses)",
            "type": "invalid_request_error",
            "param": None,
            "code": "unsupported_request",
        }
    }
    assert fake_agents.turns == []


async def test_the_demo_agent_runs_its_tools_then_calls_the_clients_and_answers_with_it(
    make_client,
):
    client = await make_client()
    first = await (await client.post(URL, json=CHAT)).json()
    (choice,) = first["choices"]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"demo"}'}
    ran = [e["name"] for e in first["gateway_events"] if e["type"] == "tool_result"]
    assert ran == ["knowledge_search", "get_gateway_status"]
    messages = [
        QUESTION,
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "21 °C"},
    ]
    second = await (await client.post(URL, json={**CHAT, "messages": messages})).json()
    assert second["choices"][0]["message"]["content"] == "The tool returned: 21 °C"
    assert second["choices"][0]["finish_reason"] == "stop"
    conversation = first["gateway_events"][0]["conversation_id"]
    assert second["gateway_events"][0]["conversation_id"] == conversation


async def test_only_the_owner_of_a_paused_turn_can_continue_it_with_tool_messages(
    make_client, responses_server, fake_responses
):
    client = await make_client(
        llama_stack_base_url=str(responses_server.make_url("/")),
        auth_mode="api-key",
        auth_api_keys="alice:k-alice-3f9a0c1d2e4b5a69,bob:k-bob-0000aaaa1111bbbb",
    )
    alice = {"Authorization": "Bearer k-alice-3f9a0c1d2e4b5a69"}
    bob = {"Authorization": "Bearer k-bob-0000aaaa1111bbbb"}
    fake_responses.turns = [fixture_steps("tool.sse")]
    fake_responses.steps = fixture_steps("tool-result.sse")
    first = await (await client.post(URL, json=CHAT, headers=alice)).json()
    (call,) = first["choices"][0]["message"]["tool_calls"]
    messages = [
        QUESTION,
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": WEATHER},
    ]
    body = {**CHAT, "messages": messages}
    foreign = await client.post(URL, json=body, headers=bob)
    assert foreign.status == 404
    assert (await foreign.json())["error"]["code"] == "conversation_not_found"
    assert len(fake_responses.requests) == 1
    own = await client.post(URL, json=body, headers=alice)
    assert (await own.json())["choices"][0]["message"]["content"] == ANSWER
