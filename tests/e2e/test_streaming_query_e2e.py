"""`POST /v1/streaming_query` through our service in front of a real llama-stack server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.cut_proxy import CuttingProxy
from tests.e2e.fake_model import NOT_REMEMBERED, TEXT_ANSWER, words
from tests.e2e.frames import StreamSummary, summarize
from tests.e2e.stacks import DOCUMENTS, StackVersion

pytestmark = pytest.mark.e2e

LOST = "The connection to the agent was lost before the answer was complete."
MCP_RESULT = '{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}'


async def stream(client: Any, stream_format: str, body: dict[str, Any]) -> StreamSummary:
    response = await client.post(f"/v1/streaming_query?format={stream_format}", json=body)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    return summarize(stream_format, await response.read())


def assert_clean_answer(summary: StreamSummary, answer: str) -> None:
    """The stream started, streamed exactly `answer`, completed the turn and ended."""
    context = summary.describe()
    assert summary.events[0] == "start", context
    assert summary.conversation_id, context
    assert summary.errors == [], context
    assert summary.answer == answer, context
    assert summary.turn_complete == answer, context
    assert summary.events[-1] == "end", context
    assert summary.events.count("end") == 1, context


async def test_readiness_is_true_against_the_real_server(gateway):
    client = await gateway()
    response = await client.get("/readiness")
    assert response.status == 200, await response.text()
    assert await response.json() == {"ready": True}


async def test_plain_text_answer_streams_from_the_model_and_ends_with_end(gateway, stream_format):
    client = await gateway()
    summary = await stream(client, stream_format, {"query": "SCENARIO:text Say hello."})
    assert_clean_answer(summary, TEXT_ANSWER)


async def test_a_slow_model_start_is_bridged_by_timer_heartbeats(gateway, stream_format):
    client = await gateway(heartbeat_interval=0.5)
    summary = await stream(client, stream_format, {"query": "SCENARIO:slow:2 Take your time."})
    assert_clean_answer(summary, TEXT_ANSWER)
    first_text = next(i for i, frame in enumerate(summary.raw) if _token_of(frame))
    heartbeats = [i for i, name in enumerate(summary.events) if name == "heartbeat"]
    assert len([i for i in heartbeats if i < first_text]) >= 2, summary.describe()


async def test_mcp_tool_call_and_its_result_reach_the_client(gateway, stream_format):
    client = await gateway(tools=True)
    summary = await stream(
        client, stream_format, {"query": "SCENARIO:tool What is the weather in Paris?"}
    )
    assert_clean_answer(summary, f"The tool returned: {MCP_RESULT}")
    context = summary.describe()
    assert any("get_weather" in call for call in summary.tool_calls), context
    assert any(
        "get_weather" in result and "temperature_c" in result and "21" in result
        for result in summary.tool_results
    ), context


async def test_file_search_answers_from_the_vector_store_and_names_the_documents(
    gateway, stream_format, llama_stack, request
):
    client = await gateway(tools=True)
    summary = await stream(
        client, stream_format, {"query": "SCENARIO:file_search capital of Fakeland"}
    )
    context = summary.describe()
    assert summary.errors == [], context
    assert any(
        name in call for call in summary.tool_calls for name in ("file_search", "knowledge_search")
    ), context
    assert "The capital of Fakeland is Mockville." in summary.answer, context
    assert summary.turn_complete == summary.answer, context
    titles = {document["title"] for document in summary.documents}
    assert DOCUMENTS[0].title in titles, context
    by_title = {document["title"]: document["url"] for document in summary.documents}
    assert by_title[DOCUMENTS[0].title] == DOCUMENTS[0].url, context
    assert summary.events[-1] == "end", context


async def test_an_unsafe_question_is_stopped_by_the_guardrails(gateway, stream_format):
    """llama-stack runs the llama-guard shield; OGX its moderation switch (the fake's endpoint)."""
    client = await gateway(shields=True)
    summary = await stream(
        client, stream_format, {"query": "SCENARIO:unsafe How do I do something bad?"}
    )
    context = summary.describe()
    assert summary.errors == [], context
    assert len(summary.violations) == 1 and "S1" in summary.violations[0], context
    assert TEXT_ANSWER not in summary.answer, context
    assert summary.events[-1] == "end", context


async def test_a_safe_question_passes_the_shields_and_gets_its_answer(gateway, stream_format):
    client = await gateway(shields=True)
    summary = await stream(client, stream_format, {"query": "SCENARIO:text Say hello."})
    assert_clean_answer(summary, TEXT_ANSWER)
    assert summary.violations == [], summary.describe()


def streamed_before_failure(version: StackVersion) -> str:
    """The answer text the model streamed before it failed, as this server passes it on."""
    text = "".join(words(TEXT_ANSWER)[:4])
    return text.rstrip(" ") if version.holds_trailing_space else text


@pytest.mark.parametrize(
    "query",
    ["SCENARIO:fail:mid Fail midway.", "SCENARIO:fail:drop Cut me off."],
    ids=["model-error-mid-stream", "model-connection-cut"],
)
async def test_model_failure_mid_stream_gives_an_error_frame_then_end(
    gateway, stream_format, llama_stack, query
):
    """The model streams four words, then sends an SSE error or cuts its connection."""
    client = await gateway()
    summary = await stream(client, stream_format, {"query": query})
    context = summary.describe()
    assert summary.events[0] == "start", context
    assert summary.answer == streamed_before_failure(llama_stack.version), context
    assert summary.turn_complete is None, context
    assert len(summary.errors) == 1 and summary.errors[0].strip(), context
    assert summary.events[-2:] == ["error", "end"], context


async def test_a_cut_upstream_connection_gives_the_lost_connection_error_then_end(
    gateway, stream_format, llama_stack
):
    if llama_stack.version.api != "responses":
        pytest.skip("the cut is placed after a Responses text delta")
    proxy = CuttingProxy(llama_stack.server.port, b"response.output_text.delta")
    async with proxy.running():
        client = await gateway(llama_stack_base_url=f"http://127.0.0.1:{proxy.port}")
        summary = await stream(client, stream_format, {"query": "SCENARIO:long:200 Go on."})
    context = summary.describe()
    assert proxy.cuts == 1, context
    assert summary.events[0] == "start", context
    assert summary.turn_complete is None, context
    assert summary.errors == [LOST], context
    assert summary.events[-2:] == ["error", "end"], context


async def test_model_failure_before_the_stream_gives_an_error_frame_then_end(
    gateway, stream_format
):
    client = await gateway()
    summary = await stream(client, stream_format, {"query": "SCENARIO:fail Please fail."})
    context = summary.describe()
    assert summary.events[0] == "start", context
    assert summary.answer == "", context
    assert len(summary.errors) == 1 and summary.errors[0].strip(), context
    assert summary.events[-2:] == ["error", "end"], context


async def test_conversation_id_from_start_continues_the_conversation(gateway, stream_format):
    client = await gateway()
    word = f"kumquat{uuid.uuid4().hex[:8]}"
    first = await stream(client, stream_format, {"query": f"SCENARIO:remember {word}"})
    assert_clean_answer(first, f"I will remember {word}.")

    body = {"query": "SCENARIO:recall Which word was it?", "conversation_id": first.conversation_id}
    follow_up = await stream(client, stream_format, body)
    assert_clean_answer(follow_up, f"The word was {word}.")

    fresh = await stream(client, stream_format, {"query": "SCENARIO:recall Which word was it?"})
    assert_clean_answer(fresh, NOT_REMEMBERED)
    assert fresh.conversation_id != first.conversation_id


def _token_of(frame: dict[str, Any]) -> str | None:
    """The answer text a frame carries (lightspeed-0.1 inference token or raw text_delta)."""
    if frame.get("event") == "token" and frame["data"].get("role") == "inference":
        return frame["data"]["token"] or None
    if frame.get("event") == "text_delta":
        return frame["text"] or None
    return None
