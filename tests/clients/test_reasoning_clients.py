"""Each format's official client reads a model's reasoning (OGX 1.5's reasoning.sse capture)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from ag_ui.core import Event as AgUiEvent
from pydantic import TypeAdapter

from fakes.fixtures import capture_frames
from fakes.responses_upstream import FakeResponsesUpstream
from tests.clients.http_tap import tapped_client
from tests.clients.scenarios import HEARTBEAT
from tests.clients.test_node_clients import run
from tests.conftest import MakeClient
from tests.e2e.fake_model import REASONING, TEXT_ANSWER
from tests.paths import OGX_FIXTURES

QUESTION = "Say hello."
MODEL = "openai/fake-model"
Start = Callable[[], Awaitable[str]]


@pytest.fixture
def service(
    make_client: MakeClient, responses_server: Any, fake_responses: FakeResponsesUpstream
) -> Start:
    """Start the service in front of a Responses upstream replaying OGX's reasoning turn."""

    async def start() -> str:
        fake_responses.steps = [*capture_frames(OGX_FIXTURES / "reasoning.sse")]
        client = await make_client(
            llama_stack_base_url=str(responses_server.make_url("/")),
            heartbeat_interval=HEARTBEAT,
        )
        return str(client.make_url("")).rstrip("/")

    return start


@pytest.fixture
async def openai_sdk(service: Start) -> AsyncIterator[openai.AsyncOpenAI]:
    client, _ = tapped_client(await service())
    yield client
    await client.close()


async def test_the_anthropic_sdk_assembles_a_thinking_block_before_the_text(service: Start) -> None:
    client = anthropic.AsyncAnthropic(
        base_url=await service(),
        api_key="unused",
        max_retries=0,
        http_client=httpx2.AsyncClient(),
    )
    try:
        async with client.messages.stream(
            model=MODEL, max_tokens=100, messages=[{"role": "user", "content": QUESTION}]
        ) as stream:
            thinking = [e.thinking async for e in stream if e.type == "thinking"]
            message = await stream.get_final_message()
    finally:
        await client.close()
    assert "".join(thinking) == REASONING
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert isinstance(message.content[0], anthropic.types.ThinkingBlock)
    assert (message.content[0].thinking, message.content[0].signature) == (REASONING, "")
    assert message.content[1].text == TEXT_ANSWER  # type: ignore[union-attr]


async def test_the_openai_sdk_gets_a_reasoning_item_in_the_final_response(
    openai_sdk: openai.AsyncOpenAI,
) -> None:
    async with openai_sdk.responses.stream(model=MODEL, input=QUESTION) as stream:
        deltas = [e.delta async for e in stream if e.type == "response.reasoning_text.delta"]
        final = await stream.get_final_response()
    assert "".join(deltas) == REASONING
    reasoning, message = final.output
    assert isinstance(reasoning, openai.types.responses.ResponseReasoningItem)
    assert reasoning.content is not None
    assert [(part.type, part.text) for part in reasoning.content] == [("reasoning_text", REASONING)]
    assert final.output_text == TEXT_ANSWER
    assert message.type == "message"


async def test_the_openai_sdk_passes_chat_reasoning_content_through(
    openai_sdk: openai.AsyncOpenAI,
) -> None:
    stream = await openai_sdk.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    reasoning, content = [], []
    async for chunk in stream:
        for choice in chunk.choices:
            reasoning.append(getattr(choice.delta, "reasoning_content", None) or "")
            content.append(choice.delta.content or "")
    assert ("".join(reasoning), "".join(content)) == (REASONING, TEXT_ANSWER)


async def test_a_non_streamed_chat_completion_has_the_messages_reasoning_content(
    openai_sdk: openai.AsyncOpenAI,
) -> None:
    completion = await openai_sdk.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": QUESTION}]
    )
    message = completion.choices[0].message
    assert (message.content, getattr(message, "reasoning_content", None)) == (
        TEXT_ANSWER,
        REASONING,
    )


EVENTS: TypeAdapter[Any] = TypeAdapter(AgUiEvent)


@pytest.mark.node
async def test_ag_ui_clients_http_agent_applies_the_reasoning_events(
    node: str, service: Start
) -> None:
    job = {
        "threadId": "thread-1",
        "runId": "run-1",
        "messages": [{"id": "u1", "role": "user", "content": QUESTION}],
    }
    result = await run(node, "ag_ui_agent.mjs", url=f"{await service()}/v1/ag-ui", **job)
    assert result["error"] is None, result["error"]
    kinds = [EVENTS.validate_python(event).type.value for event in result["events"]]
    assert kinds[1:7] == [
        "REASONING_START",
        "REASONING_MESSAGE_START",
        *["REASONING_MESSAGE_CONTENT"] * 4,
    ]
    assert kinds.index("REASONING_END") < kinds.index("TEXT_MESSAGE_START")
    messages = [{k: v for k, v in m.items() if k != "id"} for m in result["messages"]]
    assert messages == [
        {"role": "user", "content": QUESTION},
        {"role": "reasoning", "content": REASONING},
        {"role": "assistant", "content": TEXT_ANSWER},
    ]


@pytest.mark.node
async def test_the_ai_sdk_chat_shows_a_reasoning_part_before_the_text(
    node: str, service: Start
) -> None:
    url = f"{await service()}/v1/streaming_query?format=vercel"
    result = await run(node, "ai_chat.mjs", url=url, question=QUESTION)
    assert result["errors"] == []
    _, assistant = result["messages"]
    parts = [part for part in assistant["parts"] if part["type"] != "step-start"]
    assert parts == [
        {"type": "reasoning", "id": "reasoning-1", "text": REASONING, "state": "done"},
        {"type": "text", "text": TEXT_ANSWER, "state": "done"},
    ]


async def test_the_answer_with_its_reasoning_goes_back_as_history_to_the_openai_sdk(
    openai_sdk: openai.AsyncOpenAI,
) -> None:
    question: Any = {"role": "user", "content": QUESTION}
    first = await openai_sdk.chat.completions.create(model=MODEL, messages=[question])
    answered: Any = first.choices[0].message.model_dump(exclude_none=True)
    assert answered["reasoning_content"] == REASONING
    again = await openai_sdk.chat.completions.create(
        model=MODEL, messages=[question, answered, {"role": "user", "content": "And again."}]
    )
    assert again.choices[0].message.content == TEXT_ANSWER


async def test_the_thinking_block_goes_back_as_history_to_the_anthropic_sdk(
    service: Start, fake_responses: FakeResponsesUpstream
) -> None:
    client = anthropic.AsyncAnthropic(base_url=await service(), api_key="unused", max_retries=0)
    try:
        question: Any = {"role": "user", "content": QUESTION}
        first = await client.messages.create(model=MODEL, max_tokens=100, messages=[question])
        assert [block.type for block in first.content] == ["thinking", "text"]
        history: Any = [
            question,
            {"role": "assistant", "content": [block.model_dump() for block in first.content]},
            {"role": "user", "content": "And again."},
        ]
        again = await client.messages.create(model=MODEL, max_tokens=100, messages=history)
    finally:
        await client.close()
    assert [block.type for block in again.content] == ["thinking", "text"]
    sent = fake_responses.requests[-1]["input"]
    assert REASONING not in str(sent) and TEXT_ANSWER in str(sent)
