"""The official `openai` Python SDK against `/v1/chat/completions`, streaming and not."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from fakes.agents_upstream import Status, fixture_steps
from tests.clients.conftest import LiveService
from tests.clients.http_tap import Tap, tapped_client
from tests.clients.scenarios import TOOL_ANSWER, UPSTREAM_ERROR, failing_turn, tool_turn

MESSAGES: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
WEATHER_CALL = ("call_fake_0001", "get_weather", '{"city":"test"}')


@pytest.fixture
async def sdk(live_service: LiveService) -> Any:
    """An AsyncOpenAI client for a scripted turn, and the tap on its HTTP transport."""
    clients = []

    async def make(steps: list[Any]) -> tuple[openai.AsyncOpenAI, Tap]:
        client, tap = tapped_client(await live_service(steps))
        clients.append(client)
        return client, tap

    yield make
    for client in clients:
        await client.close()


async def test_streamed_chunks_give_the_answer_and_none_of_the_agents_tool_calls(sdk):
    client, tap = await sdk(tool_turn())
    stream = await client.chat.completions.create(
        model="vllm/fake-model",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, finish_reasons, usages = [], [], []
    calls: dict[int, Any] = {}
    async for chunk in stream:
        usages.append(chunk.usage)
        for choice in chunk.choices:
            text.append(choice.delta.content or "")
            for call in choice.delta.tool_calls or []:
                entry = calls.setdefault(call.index, ["", "", ""])
                entry[0] += call.id or ""
                entry[1] += call.function.name or ""
                entry[2] += call.function.arguments or ""
            if choice.finish_reason:
                finish_reasons.append(choice.finish_reason)
    assert "".join(text) == TOOL_ANSWER
    assert calls == {}
    assert finish_reasons == ["stop"]
    assert usages[-1] is not None and usages[-1].total_tokens == 0
    assert tap.received.count(b": keep-alive\n\n") >= 2


async def test_the_sdks_stream_helper_assembles_the_final_completion(sdk):
    client, tap = await sdk(tool_turn())
    async with client.chat.completions.stream(model="vllm/fake-model", messages=MESSAGES) as stream:
        completion = await stream.get_final_completion()
    message = completion.choices[0].message
    assert message.content == TOOL_ANSWER
    assert message.tool_calls is None
    assert completion.choices[0].finish_reason == "stop"
    assert tap.received.count(b": keep-alive\n\n") >= 2


async def test_a_non_streamed_completion_has_the_answer_and_the_agents_tools_aside(sdk):
    client, _ = await sdk(tool_turn())
    completion = await client.chat.completions.create(model="vllm/fake-model", messages=MESSAGES)
    message = completion.choices[0].message
    assert completion.object == "chat.completion"
    assert completion.model == "vllm/fake-model"
    assert message.content == TOOL_ANSWER
    assert message.tool_calls is None
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens == 0
    events = completion.model_extra["gateway_events"]
    assert [event["type"] for event in events] == [
        "start",
        "tool_call",
        "tool_call",
        "tool_result",
        "end",
    ]
    call_id, name, arguments = WEATHER_CALL
    assert [(e["step"], e["call_id"], e["name"], e["arguments"]) for e in events[1:3]] == [
        ("inference", call_id, name, json.loads(arguments)),
        ("tool_execution", call_id, name, json.loads(arguments)),
    ]
    assert events[3]["content"] == [
        {
            "type": "text",
            "text": '{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}',
        }
    ]


async def test_a_turn_waiting_for_a_tool_the_client_never_offered_hands_nothing_over(sdk):
    client, _ = await sdk(fixture_steps("tool.sse"))
    completion = await client.chat.completions.create(model="vllm/fake-model", messages=MESSAGES)
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.tool_calls is None
    events = completion.model_extra["gateway_events"]
    assert [event["type"] for event in events] == [
        "start",
        "tool_call",
        "turn_awaiting_input",
        "end",
    ]


async def test_an_upstream_error_mid_stream_raises_the_sdks_api_error(sdk):
    client, tap = await sdk(failing_turn())
    stream = await client.chat.completions.create(
        model="vllm/fake-model", messages=MESSAGES, stream=True
    )
    text: list[str] = []
    with pytest.raises(openai.APIError) as raised:
        await read_text(stream, text)
    assert raised.value.message == UPSTREAM_ERROR
    assert raised.value.body == {
        "message": UPSTREAM_ERROR,
        "type": "server_error",
        "param": None,
        "code": "upstream_error",
    }
    assert "".join(text) == "This answer will fail "
    assert tap.received.count(b": keep-alive\n\n") >= 2


async def read_text(stream: Any, text: list[str]) -> None:
    async for chunk in stream:
        text.extend(choice.delta.content or "" for choice in chunk.choices)


async def test_an_upstream_error_not_streamed_is_an_api_status_error(sdk):
    client, _ = await sdk(failing_turn())
    with pytest.raises(openai.InternalServerError) as raised:
        await client.chat.completions.create(model="vllm/fake-model", messages=MESSAGES)
    assert raised.value.status_code == 502
    assert raised.value.body == {
        "message": f"The agent turn failed: {UPSTREAM_ERROR}",
        "type": "server_error",
        "param": None,
        "code": "the_agent_turn_failed",
    }


async def test_an_upstream_that_is_down_is_a_503_for_the_sdk(sdk):
    client, _ = await sdk([Status(500)])
    with pytest.raises(openai.InternalServerError) as raised:
        await client.chat.completions.create(
            model="vllm/fake-model", messages=MESSAGES, stream=True
        )
    assert raised.value.status_code == 503


async def test_unsupported_parameters_are_a_clear_422_for_the_sdk(sdk):
    client, _ = await sdk(tool_turn())
    with pytest.raises(openai.UnprocessableEntityError) as raised:
        await client.chat.completions.create(
            model="vllm/fake-model",
            messages=MESSAGES,
            n=2,
            tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
        )
    assert raised.value.body == {
        "message": "Unsupported request: n: only one choice (n=1) is supported",
        "type": "invalid_request_error",
        "param": None,
        "code": "unsupported_request",
    }
