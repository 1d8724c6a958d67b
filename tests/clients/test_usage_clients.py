"""The official clients read the upstream's usage where each protocol puts it, failed turns too.

The service runs in front of the fake Responses upstream replaying mcp.sse (its
`response.completed` reports 22 input and 21 output tokens) or fail-mid.sse with a
`response.failed` that reports usage (5 and 2).
"""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import openai
import pytest
from a2a.client import ClientConfig, ClientFactory
from a2a.types import Message, Part, Role, SendMessageRequest, TaskState
from ag_ui.core import Event as AgUiEvent
from aiohttp.test_utils import TestServer
from google.protobuf import json_format
from pydantic import TypeAdapter

from fakes.responses_upstream import FakeResponsesUpstream, fixture_events, sse
from tests.clients.http_tap import tapped_client
from tests.clients.test_node_clients import run
from tests.conftest import MakeClient

MODEL = "openai/fake-model"
QUESTION = "What is the weather in Paris?"
MESSAGES: list[Any] = [{"role": "user", "content": QUESTION}]
COMPLETED = (22, 21)
FAILED = (5, 2)
UPSTREAM_ERROR = "An unexpected error occurred while generating the response."


def completed_turn() -> list[Any]:
    return [sse(event) for event in fixture_events("mcp.sse")]


def failing_turn() -> list[Any]:
    """fail-mid.sse, its `response.failed` reporting FAILED (llama-stack's says null)."""
    events = fixture_events("fail-mid.sse")
    input_tokens, output_tokens = FAILED
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    events[-1]["response"]["usage"] = {**usage, "total_tokens": sum(FAILED)}
    return [sse(event) for event in events]


async def read_into(stream: Any, into: list[Any]) -> None:
    """Read a stream's events into a list (until it ends or raises)."""
    async for event in stream:
        into.append(event)


@pytest.fixture
def service(
    make_client: MakeClient, responses_server: TestServer, fake_responses: FakeResponsesUpstream
) -> Any:
    """Start the service in front of the fake playing `steps`; return its base URL."""

    async def start(steps: list[Any]) -> str:
        fake_responses.steps = steps
        client = await make_client(
            llama_stack_base_url=str(responses_server.make_url("/")), heartbeat_interval=0.3
        )
        return str(client.make_url("")).rstrip("/")

    return start


@pytest.fixture
async def openai_sdk(service: Any) -> Any:
    clients: list[openai.AsyncOpenAI] = []

    async def make(steps: list[Any]) -> openai.AsyncOpenAI:
        client, _ = tapped_client(await service(steps))
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


def openai_usage(counts: tuple[int, int]) -> tuple[int, int, int]:
    return (*counts, sum(counts))


async def test_the_openai_sdk_reads_usage_from_the_last_chunk(openai_sdk: Any) -> None:
    client = await openai_sdk(completed_turn())
    stream = await client.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    usage = chunks[-1].usage
    assert chunks[-1].choices == []
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == openai_usage(
        COMPLETED
    )


async def test_the_openai_sdk_reads_a_failed_turn_s_usage_before_the_error(openai_sdk: Any) -> None:
    client = await openai_sdk(failing_turn())
    stream = await client.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks: list[Any] = []
    with pytest.raises(openai.APIError) as raised:
        await read_into(stream, chunks)
    assert raised.value.message == UPSTREAM_ERROR
    usage = chunks[-1].usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == openai_usage(
        FAILED
    )


async def test_the_openai_sdk_s_final_response_has_the_usage(openai_sdk: Any) -> None:
    """(A failed response's usage is in its `response.failed`, which the SDK never reads: it
    raises at the `error` event before it.)"""
    client = await openai_sdk(completed_turn())
    async with client.responses.stream(model=MODEL, input=QUESTION) as stream:
        final = await stream.get_final_response()
    assert (final.usage.input_tokens, final.usage.output_tokens) == COMPLETED


@pytest.fixture
async def anthropic_sdk(service: Any) -> Any:
    clients: list[anthropic.AsyncAnthropic] = []

    async def make(steps: list[Any]) -> anthropic.AsyncAnthropic:
        client = anthropic.AsyncAnthropic(
            base_url=await service(steps),
            api_key="unused",
            max_retries=0,
            http_client=httpx2.AsyncClient(),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def test_the_anthropic_sdk_s_final_message_has_the_usage(anthropic_sdk: Any) -> None:
    client = await anthropic_sdk(completed_turn())
    async with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
        message = await stream.get_final_message()
    assert (message.usage.input_tokens, message.usage.output_tokens) == COMPLETED


async def test_the_anthropic_sdk_s_snapshot_of_a_failed_message_has_its_usage(
    anthropic_sdk: Any,
) -> None:
    client = await anthropic_sdk(failing_turn())
    async with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
        with pytest.raises(anthropic.APIStatusError):
            await read_into(stream, [])
        snapshot = stream.current_message_snapshot
    assert (snapshot.usage.input_tokens, snapshot.usage.output_tokens) == FAILED
    assert snapshot.stop_reason is None


AI_USAGE = {"inputTokens": 22, "outputTokens": 21, "totalTokens": 43}


@pytest.mark.node
async def test_the_ai_sdk_chat_keeps_the_usage_in_the_message_metadata(
    node: str, service: Any
) -> None:
    base = await service(completed_turn())
    url = f"{base}/v1/streaming_query?format=vercel"
    result = await run(node, "ai_chat.mjs", url=url, question=QUESTION)
    assert result["errors"] == []
    metadata = result["messages"][-1]["metadata"]
    assert metadata["usage"] == AI_USAGE
    assert set(metadata) == {"conversation_id", "usage"}
    base = await service(failing_turn())
    url = f"{base}/v1/streaming_query?format=vercel"
    failed = await run(node, "ai_chat.mjs", url=url, question=QUESTION)
    assert failed["errors"] == [UPSTREAM_ERROR]
    assert failed["messages"][-1]["metadata"]["usage"] == {
        "inputTokens": 5,
        "outputTokens": 2,
        "totalTokens": 7,
    }


AG_UI_EVENTS: TypeAdapter[Any] = TypeAdapter(AgUiEvent)


@pytest.mark.node
async def test_ag_ui_s_client_gets_usage_on_run_finished_and_run_error(
    node: str, service: Any
) -> None:
    job = {"threadId": "thread-1", "runId": "run-1", "messages": [
        {"id": "u1", "role": "user", "content": QUESTION}
    ]}  # fmt: skip
    base = await service(completed_turn())
    result = await run(node, "ag_ui_agent.mjs", url=f"{base}/v1/ag-ui", **job)
    assert result["error"] is None
    finished = AG_UI_EVENTS.validate_python(result["events"][-1])
    assert finished.type.value == "RUN_FINISHED"
    assert [(u.input_tokens, u.output_tokens, u.total_tokens) for u in finished.usage] == [
        (22, 21, 43)
    ]
    base = await service(failing_turn())
    failed = await run(node, "ag_ui_agent.mjs", url=f"{base}/v1/ag-ui", **job)
    assert failed["error"] is None  # HttpAgent applies RUN_ERROR as the run's end
    error = AG_UI_EVENTS.validate_python(failed["events"][-1])
    assert error.type.value == "RUN_ERROR"
    assert [(u.input_tokens, u.output_tokens, u.total_tokens) for u in error.usage] == [(5, 2, 7)]
    assert failed["events"][-1] == {
        "type": "RUN_ERROR",
        "message": UPSTREAM_ERROR,
        "code": "upstream_error",
        "usage": [{"inputTokens": 5, "outputTokens": 2, "totalTokens": 7}],
    }


@pytest.mark.parametrize(
    ("steps", "state", "metadata"),
    [
        (
            completed_turn,
            TaskState.TASK_STATE_COMPLETED,
            {"usage": {"inputTokens": 22, "outputTokens": 21}, "referencedDocuments": []},
        ),
        (
            failing_turn,
            TaskState.TASK_STATE_FAILED,
            {"code": "upstream_error", "usage": {"inputTokens": 5, "outputTokens": 2}},
        ),
    ],
)
async def test_a2a_sdk_s_final_status_update_has_the_usage_in_its_metadata(
    service: Any, steps: Any, state: int, metadata: dict[str, Any]
) -> None:
    client = await ClientFactory(ClientConfig(streaming=True)).create_from_url(
        await service(steps())
    )
    try:
        message = Message(role=Role.ROLE_USER, message_id="m-1", parts=[Part(text=QUESTION)])
        events = [event async for event in client.send_message(SendMessageRequest(message=message))]
    finally:
        await client.close()
    final = events[-1].status_update
    assert final.status.state == state
    assert json_format.MessageToDict(final.metadata) == metadata
