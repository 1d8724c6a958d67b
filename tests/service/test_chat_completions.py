"""`POST /v1/chat/completions` end to end: OpenAI requests in front of the fake Agents upstream."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from fakes.agents_upstream import Sleep, Status, fixture_steps
from formatters.events import Event, TextDeltaEvent
from service.http.app import create_app
from service.keys import ACTIVE_STREAMS
from service.settings import Settings
from service.upstream import Readiness, Turn
from service.upstream.demo import ANSWER as DEMO_ANSWER
from service.upstream.turn import TurnRequest
from tests.conftest import split_frames

URL = "/v1/chat/completions"
FUNCTION = {"type": "function", "function": {"name": "f"}}
CHAT = {"model": "vllm/fake-model", "messages": [{"role": "user", "content": "Say hello."}]}
ANSWER = "Hello from the fake model. This is a scripted answer."
ID = re.compile(r'"id":"chatcmpl-[0-9a-f]{32}","object":"chat.completion.chunk","created":\d+,')
HEAD = '"id":"ID","object":"chat.completion.chunk","created":0,"model":"vllm/fake-model",'


def normalized(body: bytes) -> list[str]:
    """The frames with the random completion id and the clock replaced by fixed values."""
    text = body.decode()
    ids = set(re.findall(r'"id":"(chatcmpl-[0-9a-f]{32})"', text))
    assert len(ids) == 1, ids
    return split_frames(
        ID.sub('"id":"ID","object":"chat.completion.chunk","created":0,', text).encode()
    )


def delta(content: str) -> str:
    return (
        "data: {" + HEAD + '"choices":[{"index":0,"delta":{"content":' + json.dumps(content)
        + '},"logprobs":null,"finish_reason":null}]}\n\n'
    )  # fmt: skip


async def test_a_streamed_completion_is_openai_chunks_byte_for_byte(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    response = await client.post(URL, json={**CHAT, "stream": True})
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    frames = normalized(await response.read())
    session = fake_agents.sessions[0]
    words = ["Hello ", "from ", "the ", "fake ", "model. ", "This ", "is ", "a ", "scripted "]
    assert frames == [
        "data: {" + HEAD + '"choices":[{"index":0,"delta":{"role":"assistant","content":""},'
        '"logprobs":null,"finish_reason":null}],"gateway_event":{"type":"start","chunk":null,'
        f'"conversation_id":"{session}"}}}}\n\n',
        *[delta(word) for word in words],
        delta("answer."),
        "data: {" + HEAD + '"choices":[{"index":0,"delta":{},"logprobs":null,'
        '"finish_reason":"stop"}],"gateway_event":{"type":"end","chunk":null,'
        '"referenced_documents":[],"truncated":null,"input_tokens":0,"output_tokens":0}}\n\n',
        "data: [DONE]\n\n",
    ]


async def test_include_usage_ends_with_a_usage_chunk(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    frames = normalized(await (await client.post(URL, json=body)).read())
    assert all('"usage":null' in frame for frame in frames[:-2])
    assert frames[-2] == (
        "data: {" + HEAD + '"choices":[],'
        '"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}\n\n'
    )
    assert frames[-1] == "data: [DONE]\n\n"


async def test_idle_upstream_stretches_send_keep_alive_comments(agents_client, fake_agents):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:2], Sleep(1.3), *steps[2:]]
    client = await agents_client(heartbeat_interval=0.4)
    frames = normalized(await (await client.post(URL, json={**CHAT, "stream": True})).read())
    assert frames[1] == delta("Hello ")
    assert frames[2:5] == [": keep-alive\n\n"] * 3
    assert frames[5] == delta("from ")


async def test_a_non_streamed_completion_is_one_chat_completion(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    response = await client.post(URL, json=CHAT)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    completion = await response.json()
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{32}", completion.pop("id"))
    assert isinstance(completion.pop("created"), int)
    session = fake_agents.sessions[0]
    assert completion == {
        "object": "chat.completion",
        "model": "vllm/fake-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "gateway_events": [
            {"type": "start", "chunk": None, "conversation_id": session},
            {
                "type": "end",
                "chunk": None,
                "referenced_documents": [],
                "truncated": None,
                "input_tokens": 0,
                "output_tokens": 0,
            },
        ],
    }


async def test_a_shield_violation_answers_with_the_refusal_and_content_filter(
    agents_client, fake_agents
):
    fake_agents.steps = fixture_steps("shield.sse")
    client = await agents_client()
    completion = await (await client.post(URL, json=CHAT)).json()
    (choice,) = completion["choices"]
    assert choice["finish_reason"] == "content_filter"
    assert choice["message"]["content"] == ("I can't answer that. Can I help with something else?")
    shield = completion["gateway_events"][1]
    assert shield["type"] == "shield"
    assert shield["violation"]["metadata"] == {"violation_type": "S1"}


async def test_the_conversation_reaches_the_agent_as_instructions_model_and_query(
    agents_client, fake_agents
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    body = {
        "model": "vllm/other-model",
        "temperature": 0.2,
        "max_tokens": 50,
        "user": "u-1",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in English."}]},
            {"role": "user", "content": "Hi, I am Ann."},
            {
                "role": "assistant",
                "content": "Hello Ann.",
                "tool_calls": [
                    {
                        "id": "c",
                        "type": "function",
                        "function": {"name": "knowledge_search", "arguments": "{}"},
                    }
                ],
            },
            {"role": "user", "content": [{"type": "text", "text": "What is my name?"}]},
        ],
    }
    response = await client.post(URL, json=body)
    assert response.status == 200
    (agent,) = fake_agents.agents
    assert agent["agent_config"]["model"] == "vllm/other-model"
    assert agent["agent_config"]["instructions"] == "Be brief.\n\nAnswer in English."
    assert fake_agents.turns[0]["body"]["messages"] == [
        {
            "role": "user",
            "content": "user: Hi, I am Ann.\n\nassistant: Hello Ann.\n\nuser: What is my name?",
        }
    ]


async def test_conversation_id_continues_the_agent_session_with_the_last_message_only(
    agents_client, fake_agents
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    first = await (await client.post(URL, json=CHAT)).json()
    conversation_id = first["gateway_events"][0]["conversation_id"]
    body = {
        **CHAT,
        "conversation_id": conversation_id,
        "messages": [
            {"role": "user", "content": "Say hello."},
            {"role": "assistant", "content": ANSWER},
            {"role": "user", "content": "Again."},
        ],
    }
    second = await (await client.post(URL, json=body)).json()
    assert second["gateway_events"][0]["conversation_id"] == conversation_id
    assert [turn["session_id"] for turn in fake_agents.turns] == [conversation_id] * 2
    assert fake_agents.turns[1]["body"]["messages"] == [{"role": "user", "content": "Again."}]


def openai_error(response: str, cause: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    """OpenAI's error object, as this route answers every error."""
    code = response.lower().replace(" ", "_")
    return {"error": {"message": f"{response}: {cause}", "type": kind, "param": None, "code": code}}


def assert_refused(status: int, body: dict[str, Any], response: str) -> str:
    assert status == 422
    assert set(body) == {"error"}
    assert body["error"]["code"] == response.lower().replace(" ", "_")
    cause = str(body["error"]["message"]).removeprefix(f"{response}: ")
    assert body == openai_error(response, cause)
    return cause


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        ({"n": 2}, "n: only one choice (n=1) is supported"),
        (
            {"tool_choice": "required"},
            "tool_choice: a choice other than 'auto' or 'none' needs tools",
        ),
        (
            {"tools": [FUNCTION, FUNCTION]},
            "tools: two tools have the same name",
        ),
        (
            {
                "tools": [FUNCTION],
                "tool_choice": {"type": "function", "function": {"name": "other"}},
            },
            "tool_choice: no function named 'other' in tools",
        ),
        (
            {"functions": [{"name": "f"}]},
            "functions, function_call: the legacy fields are not supported; send tools",
        ),
        (
            {"response_format": {"type": "json_object"}},
            "response_format: only {'type': 'text'} is supported",
        ),
        ({"logprobs": True}, "logprobs: not supported"),
        ({"modalities": ["text", "audio"]}, "modalities: only ['text'] is supported"),
        (
            {"stream_options": {"include_usage": True}},
            "stream_options: only allowed when stream is true",
        ),
        (
            {"n": 3, "logprobs": True},
            "n: only one choice (n=1) is supported; logprobs: not supported",
        ),
        (
            {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]},
            "messages: the last message must be a user message",
        ),
        (
            {"messages": [{"role": "tool", "tool_call_id": "c", "content": "21 °C"}]},
            "messages[0].tool_call_id: 'c' is not the id of a tool call this service made",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "What is this?"},
                            {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
                        ],
                    }
                ]
            },
            "messages[0].content[1]: content parts of type 'image_url' are not supported; "
            "send text",
        ),
        (
            {"messages": [{"role": "user", "content": "  "}]},
            "messages: the last user message has no text",
        ),
    ],
)
async def test_what_an_agent_turn_cannot_do_is_refused_with_422(make_client, change, cause):
    client = await make_client()
    response = await client.post(URL, json={**CHAT, **change})
    assert assert_refused(response.status, await response.json(), "Unsupported request") == cause


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        (b"{not json", "body: Invalid JSON: key must be a string at line 1 column 2"),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', "model: Field required"),
        (
            b'{"model": "m", "messages": []}',
            "messages: List should have at least 1 item after validation, not 0",
        ),
        (
            b'{"model": "m", "messages": [{"role": "robot", "content": "hi"}]}',
            "messages.0.role: Input should be 'system', 'developer', 'user', 'assistant', "
            "'tool' or 'function'",
        ),
        (
            b'{"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}',
            "stream: Input should be a valid boolean",
        ),
        (
            b'{"model": "m", "messages": [{"role": "user", "content": "hi"}], "best_of": 2}',
            "best_of: Extra inputs are not permitted",
        ),
    ],
)
async def test_malformed_requests_are_422_naming_the_field(make_client, body, cause):
    client = await make_client()
    response = await client.post(URL, data=body, headers={"Content-Type": "application/json"})
    assert assert_refused(response.status, await response.json(), "Invalid request") == cause


async def test_a_body_that_is_not_json_by_content_type_is_415(make_client):
    client = await make_client()
    response = await client.post(URL, data="hi", headers={"Content-Type": "text/plain"})
    assert response.status == 415


async def test_integer_sampling_values_are_accepted(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    response = await client.post(URL, json={**CHAT, "temperature": 1, "top_p": 1, "seed": 7})
    assert response.status == 200


@pytest.mark.parametrize("stream", [True, False])
async def test_an_upstream_that_cannot_start_the_turn_is_503(agents_client, fake_agents, stream):
    fake_agents.steps = [Status(500)]
    client = await agents_client()
    response = await client.post(URL, json={**CHAT, "stream": stream})
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "unable_to_connect_to_llama_stack"


async def test_an_upstream_error_streamed_is_the_openai_error_then_done(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("fail-mid.sse")
    client = await agents_client()
    frames = normalized(await (await client.post(URL, json={**CHAT, "stream": True})).read())
    assert frames[1:5] == [delta("This "), delta("answer "), delta("will "), delta("fail ")]
    assert frames[5:] == [
        'data: {"error":{"message":"500: Internal server error: An unexpected error occurred.",'
        '"type":"server_error","param":null,"code":"upstream_error"}}\n\n',
        "data: [DONE]\n\n",
    ]


@pytest.mark.parametrize(
    ("steps", "cause"),
    [
        (
            fixture_steps("fail-mid.sse"),
            "500: Internal server error: An unexpected error occurred.",
        ),
        # every chunk but `turn_complete`: the upstream cut the answer short
        (
            fixture_steps("text.sse")[:-1],
            "The agent's stream ended before the answer was complete.",
        ),
    ],
    ids=["error chunk", "cut short"],
)
async def test_an_upstream_error_not_streamed_is_502_with_its_message(
    agents_client, fake_agents, steps, cause
):
    fake_agents.steps = steps
    client = await agents_client()
    response = await client.post(URL, json=CHAT)
    assert response.status == 502
    assert await response.json() == openai_error("The agent turn failed", cause, "server_error")


async def test_a_non_streamed_turn_over_the_time_limit_is_504(agents_client, fake_agents):
    fake_agents.steps = [*fixture_steps("text.sse")[:3], Sleep(30)]
    client = await agents_client(heartbeat_interval=0.3, stream_timeout=1.0)
    response = await client.post(URL, json=CHAT)
    assert response.status == 504
    assert await response.json() == openai_error(
        "The agent turn failed",
        "The answer took longer than the 1 s this service allows.",
        "server_error",
    )
    await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
    assert fake_agents.end_reason == "cancelled"


async def test_a_client_leaving_a_non_streamed_completion_cancels_the_turn_within_one_interval(
    fake_agents, agents_server, serve_like_production
):
    # Production's server does not cancel the handler when the client leaves (the test
    # server would): the service itself must notice, by watching the connection.
    interval = 0.5
    fake_agents.steps = [*fixture_steps("text.sse")[:3], Sleep(60)]
    settings = Settings(
        llama_stack_base_url=str(agents_server.make_url("/")),
        llama_stack_api="agents",
        heartbeat_interval=interval,
    )
    app = create_app(settings)
    host, port = (await serve_like_production(app)).removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    body = json.dumps(CHAT).encode()
    writer.write(
        f"POST {URL} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    await asyncio.wait_for(fake_agents.turn_started.wait(), 5)
    await asyncio.sleep(0.2)
    assert app[ACTIVE_STREAMS].count == 1
    writer.close()
    await writer.wait_closed()
    closed_at = time.monotonic()
    await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
    assert fake_agents.end_reason == "cancelled"
    assert fake_agents.ended_at is not None
    assert fake_agents.ended_at - closed_at < interval + 0.4, "cancelled within one interval"
    for _ in range(50):  # the handler returns right after cancelling the turn: 1 s at most
        if app[ACTIVE_STREAMS].count == 0:
            break
        await asyncio.sleep(0.02)
    assert app[ACTIVE_STREAMS].count == 0, "the stream slot is given back"


async def test_a_non_streamed_turn_still_open_when_the_drain_times_out_is_502(
    agents_client, fake_agents
):
    fake_agents.steps = [*fixture_steps("text.sse")[:3], Sleep(30)]
    client = await agents_client(drain_timeout=0.5)
    answer = asyncio.create_task(client.post(URL, json=CHAT))
    await asyncio.wait_for(fake_agents.turn_started.wait(), 5)
    drain = asyncio.create_task(client.app.shutdown())
    response = await asyncio.wait_for(answer, 5)
    assert response.status == 502
    assert await response.json() == openai_error(
        "The agent turn failed",
        "The service is restarting and ended this answer early; please ask again.",
        "server_error",
    )
    await asyncio.wait_for(drain, 5)
    await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
    assert fake_agents.end_reason == "cancelled"


class _BrokenUpstream:
    """An upstream whose turn raises a bug of the service's own after its first event."""

    name = "broken"

    async def start_turn(self, query: TurnRequest, *, owner: str | None = None) -> Turn:
        async def events() -> AsyncIterator[Event]:
            yield TextDeltaEvent(step="inference", text="Hello")
            raise RuntimeError("a bug")

        return Turn(conversation_id="c-1", events=events())

    async def readiness(self) -> Readiness:
        return Readiness(True)


async def test_a_non_streamed_turn_the_service_fails_is_500_and_logged(make_client):
    client = await make_client(upstream=_BrokenUpstream())
    with capture_logs() as logs:
        response = await client.post(URL, json=CHAT)
    assert response.status == 500
    assert await response.json() == openai_error(
        "The agent turn failed", "The service failed while streaming the answer.", "server_error"
    )
    assert [(e["event"], e["log_level"]) for e in logs if "failed" in e["event"]] == [
        ("stream failed", "error")
    ]
    assert [e["outcome"] for e in logs if e["event"] == "completion end"] == ["upstream_error"]


async def test_completions_count_against_the_concurrent_stream_limit(agents_client, fake_agents):
    fake_agents.steps = [*fixture_steps("text.sse")[:2], Sleep(30)]
    client = await agents_client(max_concurrent_streams=1)
    first = await client.post(URL, json={**CHAT, "stream": True})
    await first.content.readuntil(b"\n\n")
    second = await client.post(URL, json=CHAT)
    assert second.status == 429
    assert second.headers["Retry-After"] == "1"
    first.close()


async def test_the_demo_agent_answers_a_chat_completion(make_client):
    client = await make_client()
    completion = await (await client.post(URL, json=CHAT)).json()
    (choice,) = completion["choices"]
    assert choice["message"] == {"role": "assistant", "content": DEMO_ANSWER, "refusal": None}
    assert choice["finish_reason"] == "stop"
    calls = [e for e in completion["gateway_events"] if e["type"] == "tool_call"]
    assert [(call["step"], call["name"]) for call in calls] == [
        ("inference", "knowledge_search"),
        ("tool_execution", "knowledge_search"),
        ("inference", "get_gateway_status"),
        ("tool_execution", "get_gateway_status"),
    ]
    documents = completion["gateway_events"][-1]["referenced_documents"]
    assert [document["title"] for document in documents] == [
        "What agent-stream-gateway does",
        "Stream formats",
    ]
