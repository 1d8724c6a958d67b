"""pydantic-ai, litellm and langchain-openai against `/v1/chat/completions` on 127.0.0.1.

Each gets the answer once and runs none of the agent's tools (a server-run MCP tool of the same
name as the client's own), runs its own tool when the model calls it and gets the answer that
uses its result, and reads a stream through 3 s of upstream silence (resumable streams on, so
every frame has an `id:` line before the keep-alives).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from fakes.agents_upstream import Sleep, Step
from fakes.responses_upstream import WEATHER_TOOL, FakeResponsesUpstream, fixture_steps
from tests.conftest import MakeClient

MODEL = "openai/fake-model"
QUESTION = "What is the weather in Paris?"
WEATHER = '{"city": "test", "temperature_c": 21, "sky": "clear"}'
WITH_OWN_TOOL = f"The tool returned: {WEATHER}"
"""The answer of tool-result.sse: the model quoting what the client's get_weather returned."""
WITH_AGENTS_TOOL = (
    'The tool returned: {"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}'
)
"""The answer of mcp.sse: the model quoting what the agent's MCP get_weather returned."""
SILENCE = 3.0
HEARTBEAT = 0.3
Start = Callable[..., Awaitable[str]]


@pytest.fixture
def service(make_client: MakeClient, responses_server: TestServer) -> Start:
    """Start the service in front of the fake_responses Responses upstream; return its `/v1` URL."""

    async def start(**overrides: Any) -> str:
        client = await make_client(
            llama_stack_base_url=str(responses_server.make_url("/")),
            heartbeat_interval=HEARTBEAT,
            **overrides,
        )
        return str(client.make_url("/v1"))

    return start


def agents_tool_turn(silence: float = 0.0) -> list[Step]:
    """mcp.sse (the agent runs get_weather itself), silent for `silence` s before the answer."""
    steps = fixture_steps("mcp.sse")
    return [*steps[:12], Sleep(silence), *steps[12:]] if silence else steps


async def own_tool_turns(fake_responses: FakeResponsesUpstream, service: Start) -> str:
    """Script the model calling the client's get_weather, then answering with its output."""
    fake_responses.turns = [fixture_steps("tool.sse"), fixture_steps("tool-result.sse")]
    return await service()


def assert_result_went_back(fake_responses: FakeResponsesUpstream) -> None:
    """The second turn went on in the first's conversation, with the client's tool output."""
    first, second = fake_responses.requests
    assert second["conversation"] == first["conversation"]
    assert second["input"] == [
        {"type": "function_call_output", "call_id": "call_fake_0001", "output": WEATHER}
    ]


class Weather:
    """The client's own get_weather: records each call."""

    def __init__(self) -> None:
        self.cities: list[str] = []

    def __call__(self, city: str) -> str:
        """Get the current weather for a city."""
        self.cities.append(city)
        return WEATHER


# pydantic-ai


@pytest.fixture
async def openai_clients() -> Any:
    """Make AsyncOpenAI clients for pydantic-ai's run_stream; close them after the test."""
    import openai

    clients: list[openai.AsyncOpenAI] = []

    def make(base_url: str) -> openai.AsyncOpenAI:
        clients.append(openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0))
        return clients[-1]

    yield make
    for client in clients:
        await client.close()


def pydantic_agent(base_url: str, weather: Weather, client: Any) -> Any:
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    provider = OpenAIProvider(openai_client=client)
    agent = Agent(OpenAIChatModel(MODEL, provider=provider))

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return weather(city)

    return agent


def run_sync(base_url: str, weather: Weather) -> Any:
    """pydantic-ai's `run_sync` in this thread, its client closed on its loop after."""
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0)
    try:
        return pydantic_agent(base_url, weather, client).run_sync(QUESTION)
    finally:
        loop = asyncio.get_event_loop()  # the loop run_sync made for this thread
        loop.run_until_complete(client.close())
        loop.close()
        asyncio.set_event_loop(None)


async def test_pydantic_ai_run_sync_answers_once_running_none_of_the_agents_tools(
    fake_responses, service
):
    fake_responses.steps = agents_tool_turn()
    weather = Weather()
    result = await asyncio.to_thread(run_sync, await service(), weather)
    assert result.output == WITH_AGENTS_TOOL
    assert weather.cities == []
    assert len(fake_responses.requests) == 1


async def test_pydantic_ai_run_sync_runs_its_own_tool_and_answers_with_its_result(
    fake_responses, service
):
    weather = Weather()
    result = await asyncio.to_thread(
        run_sync, await own_tool_turns(fake_responses, service), weather
    )
    assert result.output == WITH_OWN_TOOL
    assert weather.cities == ["test"]
    assert_result_went_back(fake_responses)


async def test_pydantic_ai_run_stream_reads_through_silence_running_none_of_the_agents_tools(
    fake_responses, service, openai_clients
):
    fake_responses.steps = agents_tool_turn(SILENCE)
    weather = Weather()
    base_url = await service(resume_window=30)
    agent = pydantic_agent(base_url, weather, openai_clients(base_url))
    async with agent.run_stream(QUESTION) as result:
        output = await result.get_output()
    assert output == WITH_AGENTS_TOOL
    assert weather.cities == []


async def test_pydantic_ai_run_stream_runs_its_own_tool_and_streams_the_answer(
    fake_responses, service, openai_clients
):
    weather = Weather()
    base_url = await own_tool_turns(fake_responses, service)
    agent = pydantic_agent(base_url, weather, openai_clients(base_url))
    async with agent.run_stream(QUESTION) as result:
        output = await result.get_output()
    assert output == WITH_OWN_TOOL
    assert weather.cities == ["test"]
    assert_result_went_back(fake_responses)


# litellm


LITELLM_WARNING = pytest.mark.filterwarnings(
    r"ignore:Item '\w+' on TypedDict class 'ChatCompletion\w+' is using the `ReadOnly`"
    ":UserWarning"
)
"""litellm's own types warn under pydantic 2.14 (ReadOnly TypedDict items); nothing of ours."""


def litellm_completion(base_url: str, messages: list[Any], *, stream: bool) -> Any:
    """One litellm `completion`, streamed chunks assembled by litellm itself; its message."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # else it fetches a price list
    import litellm
    import openai

    with openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0) as client:
        answer = litellm.completion(
            model=f"openai/{MODEL}",
            api_base=base_url,
            api_key="unused",
            messages=messages,
            tools=[WEATHER_TOOL],
            stream=stream,
            client=client,
        )
        if stream:
            answer = litellm.stream_chunk_builder(list(answer), messages=messages)
    (choice,) = answer.choices
    return choice


@LITELLM_WARNING
@pytest.mark.parametrize("stream", [False, True])
async def test_litellm_answers_once_running_none_of_the_agents_tools(
    fake_responses, service, stream
):
    fake_responses.steps = agents_tool_turn(SILENCE if stream else 0)
    base_url = await service(resume_window=30 if stream else 0)
    messages = [{"role": "user", "content": QUESTION}]
    choice = await asyncio.to_thread(litellm_completion, base_url, messages, stream=stream)
    assert choice.message.content == WITH_AGENTS_TOOL
    assert not choice.message.tool_calls
    assert choice.finish_reason == "stop"


@LITELLM_WARNING
@pytest.mark.parametrize("stream", [False, True])
async def test_litellm_runs_its_own_tool_and_gets_the_answer_with_its_result(
    fake_responses, service, stream
):
    base_url = await own_tool_turns(fake_responses, service)
    weather = Weather()
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    choice = await asyncio.to_thread(litellm_completion, base_url, messages, stream=stream)
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.function.name == "get_weather"
    import json

    output = weather(**json.loads(call.function.arguments))
    messages += [
        choice.message.model_dump(),
        {"role": "tool", "tool_call_id": call.id, "content": output},
    ]
    final = await asyncio.to_thread(litellm_completion, base_url, messages, stream=stream)
    assert final.message.content == WITH_OWN_TOOL
    assert final.finish_reason == "stop"
    assert weather.cities == ["test"]
    assert_result_went_back(fake_responses)


# langchain-openai


@pytest.fixture
def chat_model() -> Any:
    """Make langchain-openai chat models; close their clients after the test."""
    from langchain_openai import ChatOpenAI

    models: list[ChatOpenAI] = []

    def make(base_url: str) -> ChatOpenAI:
        models.append(ChatOpenAI(model=MODEL, base_url=base_url, api_key="unused", max_retries=0))
        return models[-1]

    yield make
    for model in models:
        model.root_client.close()


def weather_tool(weather: Weather) -> Any:
    from langchain_core.tools import tool

    @tool
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return weather(city)

    return get_weather


async def test_langchain_invoke_answers_once_running_none_of_the_agents_tools(
    fake_responses, service, chat_model
):
    fake_responses.steps = agents_tool_turn()
    weather = Weather()
    model = chat_model(await service()).bind_tools([weather_tool(weather)])
    message = await asyncio.to_thread(model.invoke, QUESTION)
    assert message.content == WITH_AGENTS_TOOL
    assert message.tool_calls == []
    assert weather.cities == []


async def test_langchain_stream_reads_through_silence_running_none_of_the_agents_tools(
    fake_responses, service, chat_model
):
    fake_responses.steps = agents_tool_turn(SILENCE)
    weather = Weather()
    model = chat_model(await service(resume_window=30)).bind_tools([weather_tool(weather)])
    pieces = await asyncio.to_thread(lambda: list(model.stream(QUESTION)))
    assert "".join(piece.content for piece in pieces) == WITH_AGENTS_TOOL
    assert all(not piece.tool_call_chunks for piece in pieces)
    assert weather.cities == []


async def test_langchain_bind_tools_runs_its_own_tool_and_gets_the_answer_with_its_result(
    fake_responses, service, chat_model
):
    from langchain_core.messages import HumanMessage

    weather = Weather()
    get_weather = weather_tool(weather)
    model = chat_model(await own_tool_turns(fake_responses, service)).bind_tools([get_weather])
    messages: list[Any] = [HumanMessage(QUESTION)]
    asked = await asyncio.to_thread(model.invoke, messages)
    (call,) = asked.tool_calls
    assert (call["name"], call["args"]) == ("get_weather", {"city": "test"})
    messages += [asked, get_weather.invoke(call)]
    final = await asyncio.to_thread(model.invoke, messages)
    assert final.content == WITH_OWN_TOOL
    assert final.tool_calls == []
    assert weather.cities == ["test"]
    assert_result_went_back(fake_responses)


# the openai SDK itself (the others' transport), on the same resumable silent stream


TOOLS: Any = [WEATHER_TOOL]
"""The `tools` of a request, typed loosely as the SDK's own TypedDicts take them."""


async def test_the_openai_sdk_reads_a_resumable_stream_through_silence(fake_responses, service):
    import openai

    fake_responses.steps = agents_tool_turn(SILENCE)
    base_url = await service(resume_window=30)
    async with openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0) as client:
        stream = await client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": QUESTION}],
            tools=TOOLS,
            stream=True,
        )
        deltas = [choice.delta async for chunk in stream for choice in chunk.choices]
    assert "".join(delta.content or "" for delta in deltas) == WITH_AGENTS_TOOL
    assert all(not delta.tool_calls for delta in deltas)
