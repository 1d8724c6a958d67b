"""The official `anthropic` Python SDK against `/v1/messages`, streaming and not."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import pytest

from fakes.agents_upstream import Status
from tests.clients.conftest import LiveService
from tests.clients.http_tap import Tap
from tests.clients.scenarios import (
    TEXT_ANSWER,
    TOOL_ANSWER,
    UPSTREAM_ERROR,
    failing_turn,
    silent_turn,
    tool_turn,
)

MESSAGES: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
MODEL = "vllm/fake-model"


@pytest.fixture
async def sdk(live_service: LiveService) -> Any:
    """An AsyncAnthropic client for a scripted turn, and the tap on its HTTP transport."""
    clients = []

    async def make(steps: list[Any]) -> tuple[anthropic.AsyncAnthropic, Tap]:
        base_url = await live_service(steps)
        tap = Tap()
        client = anthropic.AsyncAnthropic(
            base_url=base_url,
            api_key="unused",
            max_retries=0,
            http_client=httpx2.AsyncClient(transport=tap),
        )
        clients.append(client)
        return client, tap

    yield make
    for client in clients:
        await client.close()


WEATHER_INPUT = {"city": "test"}
TOOL_RESULT = '{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}'
PING = b'event: ping\ndata: {"type":"ping"}\n\n'


def tool_blocks(message: Any) -> list[tuple[Any, ...]]:
    """The message's content blocks as (type, what the block says) tuples."""
    seen: list[tuple[Any, ...]] = []
    for block in message.content:
        if block.type == "mcp_tool_use":
            seen.append((block.type, block.id, block.name, block.server_name, block.input))
        elif block.type == "mcp_tool_result":
            texts = [item.text for item in block.content]
            seen.append((block.type, block.tool_use_id, block.is_error, texts))
        else:
            seen.append((block.type, block.text))
    return seen


TOOL_TURN_BLOCKS = [
    ("mcp_tool_use", "call_fake_0001", "get_weather", "agent", WEATHER_INPUT),
    ("mcp_tool_result", "call_fake_0001", False, [TOOL_RESULT]),
    ("text", TOOL_ANSWER),
]


async def test_the_beta_stream_helper_assembles_the_tool_call_its_result_and_the_answer(sdk):
    client, tap = await sdk(tool_turn())
    async with client.beta.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
        message = await stream.get_final_message()
    assert tool_blocks(message) == TOOL_TURN_BLOCKS
    assert (message.model, message.role, message.stop_reason) == (MODEL, "assistant", "end_turn")
    assert message.model_extra["conversation_id"]
    assert tap.received.count(PING) >= 2, "heartbeats are pings while the tool runs"


async def test_the_stream_helper_gives_the_answer_text_and_no_tool_use_to_run(sdk):
    client, tap = await sdk(tool_turn())
    async with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
        text = "".join([piece async for piece in stream.text_stream])
        message = await stream.get_final_message()
    assert text == TOOL_ANSWER
    assert [block.type for block in message.content] == [
        "mcp_tool_use",
        "mcp_tool_result",
        "text",
    ]
    assert b'"type":"tool_use"' not in tap.received, "a tool_use block is for the client to run"


async def test_three_seconds_of_upstream_silence_are_pings_the_sdk_skips(sdk):
    client, tap = await sdk(silent_turn())
    async with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
        assert await stream.get_final_text() == TEXT_ANSWER
    assert tap.received.count(PING) >= 8


async def test_create_with_stream_true_gives_the_events_in_anthropic_s_order(sdk):
    client, _ = await sdk(tool_turn())
    stream = await client.messages.create(
        model=MODEL, max_tokens=64, messages=MESSAGES, stream=True
    )
    kinds = [event.type async for event in stream]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds[1:4] == ["content_block_start", "content_block_delta", "content_block_stop"]
    assert kinds.count("content_block_start") == kinds.count("content_block_stop") == 3


async def test_a_non_streamed_message_has_the_same_blocks(sdk):
    client, _ = await sdk(tool_turn())
    message = await client.beta.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)
    assert tool_blocks(message) == TOOL_TURN_BLOCKS
    assert (message.type, message.stop_reason, message.usage.output_tokens) == (
        "message",
        "end_turn",
        0,
    )


async def test_an_upstream_error_mid_stream_raises_the_sdks_api_status_error(sdk):
    client, tap = await sdk(failing_turn())
    text: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as raised:
        await read_text(client, text)
    assert raised.value.body == {
        "type": "error",
        "error": {"type": "api_error", "message": UPSTREAM_ERROR},
    }
    assert "".join(text) == "This answer will fail "
    assert tap.received.count(PING) >= 2


async def read_text(client: anthropic.AsyncAnthropic, text: list[str]) -> None:
    async with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
        async for piece in stream.text_stream:
            text.append(piece)


async def test_an_upstream_error_not_streamed_is_a_502_in_anthropic_s_shape(sdk):
    client, _ = await sdk(failing_turn())
    with pytest.raises(anthropic.InternalServerError) as raised:
        await client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)
    assert raised.value.status_code == 502
    assert raised.value.body == {
        "type": "error",
        "error": {"type": "api_error", "message": UPSTREAM_ERROR},
    }


async def test_an_upstream_that_is_down_is_a_503_in_anthropic_s_shape(sdk):
    client, _ = await sdk([Status(500)])
    with pytest.raises(anthropic.InternalServerError) as raised:
        await client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES, stream=True)
    assert raised.value.status_code == 503
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["type"] == "api_error"


async def test_client_tools_are_a_bad_request_error_for_the_sdk(sdk):
    client, _ = await sdk(tool_turn())
    tool = {"name": "get_weather", "input_schema": {"type": "object"}}
    with pytest.raises(anthropic.BadRequestError) as raised:
        await client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES, tools=[tool])
    assert raised.value.body == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "tools: client-defined tools are not supported; the agent's tools are "
            "configured on the service (AGENT_TOOLGROUPS)",
        },
    }
