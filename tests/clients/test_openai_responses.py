"""The official `openai` Python SDK against `POST /v1/responses`: stream helper, raw events, resume.

Streams are resumable (RESUME_WINDOW > 0), so every frame has an `id:` line: the SDK must read
through keep-alives after one, including a 3 s silent stretch of the upstream.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest

from fakes.agents_upstream import FakeAgentsUpstream, Sleep, Step, fixture_steps
from service.http.models.responses import CLIENT_FUNCTIONS
from tests.clients.http_tap import Tap, tapped_client
from tests.clients.scenarios import HEARTBEAT, TOOL_ANSWER, UPSTREAM_ERROR, failing_turn, tool_turn

ANSWER = "Hello from the fake model. This is a scripted answer."
QUESTION = "What is the weather in Paris?"
SILENCE = 3.0


def silent_turn() -> list[Step]:
    """text.sse with 3 s of upstream silence after its first words."""
    steps = fixture_steps("text.sse")
    return [*steps[:3], Sleep(SILENCE), *steps[3:]]


@pytest.fixture
async def sdk(agents_client: Any, fake_agents: FakeAgentsUpstream) -> Any:
    """An AsyncOpenAI client of a service with resumable streams, for a scripted turn."""
    clients = []

    async def make(steps: list[Step]) -> tuple[openai.AsyncOpenAI, Tap]:
        fake_agents.steps = steps
        service = await agents_client(heartbeat_interval=HEARTBEAT, resume_window=30.0)
        client, tap = tapped_client(str(service.make_url("")).rstrip("/"))
        clients.append(client)
        return client, tap

    yield make
    for client in clients:
        await client.close()


async def test_the_stream_helper_assembles_a_plain_turn(sdk):
    client, _ = await sdk(fixture_steps("text.sse"))
    async with client.responses.stream(model="vllm/fake-model", input=QUESTION) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_response()
    assert collapsed(kinds) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert final.status == "completed"
    assert final.output_text == ANSWER
    assert [item.type for item in final.output] == ["message"]
    assert final.model == "vllm/fake-model"
    assert final.usage is not None and final.usage.total_tokens == 0


def collapsed(kinds: list[str]) -> list[str]:
    """The event types with runs of one type kept once."""
    return [kind for i, kind in enumerate(kinds) if i == 0 or kinds[i - 1] != kind]


async def test_raw_events_of_a_tool_turn_have_the_tool_as_an_mcp_call_never_a_function_call(sdk):
    client, tap = await sdk(tool_turn())
    stream = await client.responses.create(model="vllm/fake-model", input=QUESTION, stream=True)
    events = [event async for event in stream]
    assert [event.sequence_number for event in events] == sorted(
        {event.sequence_number for event in events}
    )
    assert events[0].type == "response.created"
    final = events[-1]
    assert final.type == "response.completed"
    assert [item.type for item in final.response.output] == ["mcp_call", "message"]
    call = final.response.output[0]
    assert (call.name, call.arguments, call.status) == (
        "get_weather",
        '{"city":"test"}',
        "completed",
    )
    assert call.output == '{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}'
    assert final.response.output_text == TOOL_ANSWER
    assert b"function_call" not in tap.received
    assert tap.received.count(b": keep-alive\n") >= 2


async def test_a_3_s_silent_stretch_is_read_through_keep_alives_after_id_lines(sdk):
    client, tap = await sdk(silent_turn())
    async with client.responses.stream(model="vllm/fake-model", input=QUESTION) as stream:
        final = await stream.get_final_response()
    assert final.output_text == ANSWER
    assert b"\nid: " in tap.received
    assert tap.received.count(b": keep-alive\n") >= 5


async def test_an_upstream_failure_raises_the_sdks_api_error(sdk):
    client, tap = await sdk(failing_turn())
    text: list[str] = []
    with pytest.raises(openai.APIError) as raised:
        await stream_text(client, text)
    assert raised.value.message == UPSTREAM_ERROR
    assert raised.value.body == {
        "type": "server_error",
        "code": "upstream_error",
        "message": UPSTREAM_ERROR,
    }
    assert "".join(text) == "This answer will fail "
    assert b"event: response.failed\n" in tap.received


async def stream_text(client: openai.AsyncOpenAI, text: list[str]) -> None:
    """Read a `responses.stream` to its end, keeping its text deltas in `text`."""
    async with client.responses.stream(model="vllm/fake-model", input=QUESTION) as stream:
        async for event in stream:
            if event.type == "response.output_text.delta":
                text.append(event.delta)


async def test_a_stream_resumes_after_a_sequence_number_by_retrieve(sdk):
    client, _ = await sdk(tool_turn())
    stream = await client.responses.create(model="vllm/fake-model", input=QUESTION, stream=True)
    first = [event async for event in stream]
    cut = next(e.sequence_number for e in first if e.type == "response.output_item.done")
    resumed = await client.responses.retrieve(first[0].response.id, stream=True, starting_after=cut)
    rest = [event async for event in resumed]
    after = [event for event in first if event.sequence_number > cut]
    assert [event.model_dump() for event in rest] == [event.model_dump() for event in after]
    assert rest[-1].type == "response.completed"
    assert rest[-1].response.output_text == TOOL_ANSWER


async def test_a_non_streamed_response_continues_by_previous_response_id(sdk, fake_agents):
    client, _ = await sdk(tool_turn())
    first = await client.responses.create(model="vllm/fake-model", input=QUESTION)
    assert first.status == "completed" and first.output_text == TOOL_ANSWER
    fake_agents.steps = fixture_steps("text.sse")
    second = await client.responses.create(
        model="vllm/fake-model", input="And tomorrow?", previous_response_id=first.id
    )
    assert second.output_text == ANSWER
    assert second.previous_response_id == first.id
    assert second.conversation is not None and first.conversation is not None
    assert second.conversation.id == first.conversation.id == fake_agents.sessions[0]
    assert len(fake_agents.sessions) == 1


async def test_client_function_tools_are_a_clear_400_in_openais_error_shape(sdk):
    client, _ = await sdk(tool_turn())
    with pytest.raises(openai.BadRequestError) as raised:
        await client.responses.create(
            model="vllm/fake-model",
            input=QUESTION,
            tools=[{"type": "function", "name": "get_weather", "parameters": {}, "strict": True}],
        )
    assert raised.value.body == {
        "message": "Unsupported request: " + CLIENT_FUNCTIONS,
        "type": "invalid_request_error",
        "param": None,
        "code": "unsupported_request",
    }


async def test_an_unknown_previous_response_is_the_sdks_not_found_error(sdk):
    client, _ = await sdk(tool_turn())
    with pytest.raises(openai.NotFoundError) as raised:
        await client.responses.create(
            model="vllm/fake-model", input=QUESTION, previous_response_id="resp_nope"
        )
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["code"] == "conversation_not_found"
