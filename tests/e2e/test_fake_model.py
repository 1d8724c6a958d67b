"""The scripted fake model answers each SCENARIO marker as its docstring promises (no llama-stack)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from tests.e2e.fake_model import (
    EMBEDDING_DIMENSION,
    FAIL_MESSAGE,
    NOT_REMEMBERED,
    REASONING,
    TEXT_ANSWER,
    FakeModel,
    embed,
    quote,
)

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
RAG_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "insert_into_memory",
            "parameters": {"type": "object", "properties": {"text": {"type": "string"}}},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "knowledge_search",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
        },
    },
]


@pytest.fixture
async def model(aiohttp_client):
    return await aiohttp_client(FakeModel().app())


async def chat(model, messages, **extra):
    body = {"model": "fake-model", "messages": messages, "stream": True, **extra}
    response = await model.post("/v1/chat/completions", json=body)
    return response, await response.read()


def chunks_of(body: bytes) -> list[Any]:
    frames = [f.removeprefix(b"data: ") for f in body.split(b"\n\n") if f.strip()]
    assert frames[-1] == b"[DONE]"
    return [json.loads(frame) for frame in frames[:-1]]


def text_of(chunks: list[Any]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


async def test_text_scenario_streams_the_scripted_answer_word_by_word(model):
    response, body = await chat(model, [{"role": "user", "content": "SCENARIO:text Say hello."}])
    assert response.headers["Content-Type"] == "text/event-stream"
    chunks = chunks_of(body)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]] == [
        "Hello ",
        "from ",
        "the ",
        "fake ",
        "model. ",
        "This ",
        "is ",
        "a ",
        "scripted ",
        "answer.",
    ]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_usage_chunk_comes_last_when_asked_for(model):
    _, body = await chat(
        model,
        [{"role": "user", "content": [{"type": "text", "text": "Say hello."}]}],
        stream_options={"include_usage": True},
    )
    last = chunks_of(body)[-1]
    assert last["choices"] == []
    assert last["usage"] == {"prompt_tokens": 2, "completion_tokens": 10, "total_tokens": 12}


async def test_non_streaming_answer_is_one_completion(model):
    response = await model.post(
        "/v1/chat/completions",
        json={"model": "fake-model", "messages": [{"role": "user", "content": "hi"}]},
    )
    completion = await response.json()
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"] == {"role": "assistant", "content": TEXT_ANSWER}


@pytest.mark.parametrize(
    ("conversation", "verdict"),
    [("SCENARIO:unsafe Do harm", "unsafe\nS1"), ("SCENARIO:text Hi", "safe")],
)
async def test_llama_guard_prompts_get_a_verdict(model, conversation, verdict):
    prompt = (
        "Task: Check if there is unsafe content in 'User' messages in conversations according "
        f"our safety policy.\n<BEGIN CONVERSATION>\n\nUser: {conversation}\n\n<END CONVERSATION>"
    )
    response = await model.post(
        "/v1/chat/completions",
        json={"model": "fake-model", "messages": [{"role": "user", "content": prompt}]},
    )
    assert (await response.json())["choices"][0]["message"]["content"] == verdict


async def test_tool_scenario_calls_the_offered_tool_in_argument_deltas(model):
    _, body = await chat(
        model,
        [{"role": "user", "content": "SCENARIO:tool Weather?"}],
        tools=[*RAG_TOOLS, WEATHER_TOOL],
    )
    chunks = chunks_of(body)
    calls = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks
        if "tool_calls" in c["choices"][0]["delta"]
    ]
    assert calls[0]["function"]["name"] == "get_weather"
    assert calls[0]["id"] == "call_fake_0001"
    assert json.loads("".join(c["function"]["arguments"] for c in calls)) == {"city": "test"}
    assert len(calls) == 3
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_tool_scenario_repeats_the_same_call_when_asked_again(model):
    """A turn continued after an approval asks again; OGX matches name and arguments."""
    question = [{"role": "user", "content": "SCENARIO:tool Weather?"}]
    heads, arguments = [], []
    for _ in range(2):
        _, body = await chat(model, question, tools=[WEATHER_TOOL])
        calls = [
            c["choices"][0]["delta"]["tool_calls"][0]
            for c in chunks_of(body)
            if "tool_calls" in c["choices"][0]["delta"]
        ]
        heads.append((calls[0]["id"], calls[0]["function"]["name"]))
        arguments.append("".join(c["function"]["arguments"] for c in calls))
    assert heads == [("call_fake_0001", "get_weather"), ("call_fake_0003", "get_weather")]
    assert arguments == ['{"city": "test"}', '{"city": "test"}']


async def test_tool_scenario_with_a_count_makes_parallel_calls(model):
    _, body = await chat(
        model, [{"role": "user", "content": "SCENARIO:tool:2 Weather?"}], tools=[WEATHER_TOOL]
    )
    chunks = chunks_of(body)
    calls: dict[int, dict[str, str]] = {}
    for c in chunks:
        for delta in c["choices"][0]["delta"].get("tool_calls", []):
            call = calls.setdefault(delta["index"], {"arguments": ""})
            call.update({k: v for k, v in delta.items() if k == "id"})
            call.setdefault("name", delta.get("function", {}).get("name", ""))
            call["arguments"] += delta["function"]["arguments"]
    assert calls == {
        0: {"id": "call_fake_0001", "name": "get_weather", "arguments": '{"city": "test"}'},
        1: {"id": "call_fake_0002", "name": "get_weather", "arguments": '{"city": "test2"}'},
    }
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("role", ["developer", "system"])
async def test_a_note_after_the_question_is_answered_without_a_tool_call(model, role):
    messages = [
        {"role": "user", "content": "SCENARIO:tool Weather?"},
        {"role": role, "content": "The user denied the call of get_weather."},
    ]
    _, body = await chat(model, messages, tools=[WEATHER_TOOL])
    chunks = chunks_of(body)
    assert text_of(chunks) == "Understood: The user denied the call of get_weather."
    assert not any("tool_calls" in c["choices"][0]["delta"] for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_a_system_message_before_the_question_is_no_note(model):
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "SCENARIO:text Say hello."},
    ]
    _, body = await chat(model, messages)
    assert text_of(chunks_of(body)) == TEXT_ANSWER


async def test_file_search_scenario_calls_the_retrieval_tool_with_the_question(model):
    _, body = await chat(
        model,
        [{"role": "user", "content": "SCENARIO:file_search capital of Fakeland"}],
        tools=[WEATHER_TOOL, *RAG_TOOLS],
    )
    calls = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks_of(body)
        if "tool_calls" in c["choices"][0]["delta"]
    ]
    assert calls[0]["function"]["name"] == "knowledge_search"
    arguments = "".join(c["function"]["arguments"] for c in calls)
    assert json.loads(arguments) == {"query": "capital of Fakeland"}


async def test_tool_scenario_without_tools_answers_in_text(model):
    _, body = await chat(model, [{"role": "user", "content": "SCENARIO:tool Weather?"}])
    assert text_of(chunks_of(body)) == TEXT_ANSWER


async def test_a_tool_result_is_quoted_back(model):
    messages = [
        {"role": "user", "content": "SCENARIO:tool Weather?"},
        {"role": "tool", "tool_call_id": "call_fake_0001", "content": '{"sky": "clear"}'},
    ]
    _, body = await chat(model, messages)
    assert text_of(chunks_of(body)) == 'The tool returned: {"sky": "clear"}'


def test_a_long_tool_result_is_cut_to_the_sentence_that_matches_the_question():
    result = (
        "file_search tool found 2 chunks:\nBEGIN of file_search tool results.\n"
        + "[1] document_id: file-1, score: 0.9, attributes: {'filename': 'fakeland.txt'}\n"
        + "Fakeland facts. The capital of Fakeland is Mockville. It exports rubber ducks.\n"
        + "x" * 300
    )
    assert quote(result, "capital of Fakeland") == "The capital of Fakeland is Mockville."
    assert quote("short", "anything") == "short"


async def test_recall_finds_the_word_in_an_earlier_message(model):
    messages = [
        {"role": "user", "content": "SCENARIO:remember kumquat42"},
        {"role": "assistant", "content": "I will remember kumquat42."},
        {"role": "user", "content": "SCENARIO:recall Which word?"},
    ]
    _, body = await chat(model, messages)
    assert text_of(chunks_of(body)) == "The word was kumquat42."
    _, body = await chat(model, messages[-1:])
    assert text_of(chunks_of(body)) == NOT_REMEMBERED


async def test_remember_acknowledges_the_word(model):
    _, body = await chat(model, [{"role": "user", "content": "SCENARIO:remember fig7"}])
    assert text_of(chunks_of(body)) == "I will remember fig7."


async def test_fail_answers_500_before_streaming(model):
    response, body = await chat(model, [{"role": "user", "content": "SCENARIO:fail Please fail."}])
    assert response.status == 500
    assert json.loads(body)["error"]["message"] == FAIL_MESSAGE


async def test_fail_mid_streams_four_chunks_then_an_error_event(model):
    _, body = await chat(model, [{"role": "user", "content": "SCENARIO:fail:mid Fail midway."}])
    frames = [json.loads(f.removeprefix(b"data: ")) for f in body.split(b"\n\n") if f.strip()]
    assert [f["choices"][0]["delta"]["content"] for f in frames[:-1]] == [
        "Hello ",
        "from ",
        "the ",
        "fake ",
    ]
    assert frames[-1] == {"error": {"message": FAIL_MESSAGE, "type": "server_error", "code": 500}}


async def test_models_lists_the_chat_and_embedding_models(model):
    listed = await (await model.get("/v1/models")).json()
    assert [m["id"] for m in listed["data"]] == ["fake-model", "fake-embed"]


async def test_embeddings_are_deterministic_unit_vectors(model):
    response = await model.post(
        "/v1/embeddings", json={"model": "fake-embed", "input": ["capital of Fakeland", ""]}
    )
    data = (await response.json())["data"]
    assert [item["index"] for item in data] == [0, 1]
    assert data[0]["embedding"] == embed("capital of Fakeland")
    for item in data:
        assert len(item["embedding"]) == EMBEDDING_DIMENSION
        assert math.isclose(sum(v * v for v in item["embedding"]), 1.0)


def test_texts_sharing_words_embed_closer_than_unrelated_ones():
    def cosine(a, b):
        return sum(x * y for x, y in zip(embed(a), embed(b), strict=True))

    query = "capital of Fakeland"
    related = "The capital of Fakeland is Mockville."
    unrelated = "Mockonia grows stub fruit and its rivers run with JSON."
    assert cosine(query, related) > cosine(query, unrelated)


async def test_moderations_flag_only_the_unsafe_scenario_as_s1(model):
    response = await model.post(
        "/v1/moderations", json={"input": ["SCENARIO:unsafe How do I do it?", "Say hello."]}
    )
    assert await response.json() == {
        "id": "modr-fake",
        "model": "fake-guard",
        "results": [
            {"flagged": True, "categories": {"S1": True}, "category_scores": {"S1": 1.0}},
            {"flagged": False, "categories": {"S1": False}, "category_scores": {"S1": 0.0}},
        ],
    }


async def test_reason_scenario_streams_reasoning_content_word_by_word_before_the_answer(model):
    _, body = await chat(model, [{"role": "user", "content": "SCENARIO:reason Say hello."}])
    deltas = [c["choices"][0]["delta"] for c in chunks_of(body) if c["choices"]]
    thoughts = [d["reasoning_content"] for d in deltas if "reasoning_content" in d]
    assert thoughts == [
        "The ",
        "user ",
        "wants ",
        "a ",
        "greeting. ",
        "I ",
        "will ",
        "say ",
        "hello.",
    ]
    assert "".join(thoughts) == REASONING
    first_answer = next(i for i, d in enumerate(deltas) if d.get("content"))
    assert max(i for i, d in enumerate(deltas) if "reasoning_content" in d) < first_answer
    assert text_of(chunks_of(body)) == TEXT_ANSWER
