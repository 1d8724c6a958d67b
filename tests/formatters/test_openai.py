"""The openai formatter's exact bytes, and the chat.completion assembled from its chunks."""

from __future__ import annotations

import json
import re
from typing import Any

from formatters.call_ids import client_call_id, parse_client_call_id
from formatters.event_json import event_object
from formatters.events import (
    EndEvent,
    Event,
    HeartbeatEvent,
    ReasoningDeltaEvent,
    TextDeltaEvent,
    ToolCallDeltaEvent,
    ToolCallEvent,
    TurnAwaitingInputEvent,
    UsageEvent,
)
from formatters.openai import (
    DEFAULT_MODEL,
    ChunkBuilder,
    CompletionBuilder,
    OpenAIFormatter,
)
from tests.formatters.cases import CASES, START, texts

HEAD = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m",'
CHOICE = HEAD + '"choices":[{"index":0,"delta":'
START_CHUNK = (
    "data: " + CHOICE + '{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],'
    '"gateway_event":{"type":"start","chunk":null,'
    '"conversation_id":"c0ffee00-0000-0000-0000-000000000000"}}\n\n'
)
END_EMPTY = (
    '"gateway_event":{"type":"end","chunk":null,"referenced_documents":[],"truncated":null,'
    '"input_tokens":0,"output_tokens":0}}\n\n'
)


def render(events: list[Event], **options: Any) -> str:
    formatter = OpenAIFormatter(
        completion_id="chatcmpl-1", created=1700000000, model="m", **options
    )
    return "".join(frame for event in events for frame in texts(formatter.format(event)))


def test_text_only_case() -> None:
    assert render(CASES["text_only"]) == (
        START_CHUNK
        + "data: " + CHOICE + '{"content":"Hello, "},"logprobs":null,"finish_reason":null}]}\n\n'
        + "data: " + CHOICE + '{"content":"w\\u00f6rld \\"quoted\\"\\nnext line"},'
        '"logprobs":null,"finish_reason":null}]}\n\n'
        + "data: " + CHOICE + '{},"logprobs":null,"finish_reason":"stop"}],' + END_EMPTY
        + "data: [DONE]\n\n"
    )  # fmt: skip


def gateway(event: str) -> str:
    return "data: " + CHOICE + '{},"logprobs":null,"finish_reason":null}],"gateway_event":' + event


def test_the_agents_tool_calls_ride_aside_as_complete_calls_never_as_tool_calls() -> None:
    assert render(CASES["tool_call"]) == (
        START_CHUNK
        + gateway('{"type":"tool_call","chunk":4,"step":"inference","call_id":"c1",'
        '"name":"get_weather","arguments":{"city":"Paris"}}}\n\n')
        + gateway('{"type":"tool_call","chunk":7,"step":"tool_execution","call_id":"c1",'
        '"name":"get_weather","arguments":{"city":"Paris","days":2}}}\n\n')
        + gateway('{"type":"tool_result","chunk":7,"step":"tool_execution","call_id":"c1",'
        '"name":"get_weather","content":[{"type":"text","text":"sunny, 21 \\u00b0C"}],'
        '"failed":false}}\n\n')
        + "data: " + CHOICE + '{"content":"It is sunny."},"logprobs":null,"finish_reason":null}]}\n\n'
        + "data: " + CHOICE + '{},"logprobs":null,"finish_reason":"stop"}],' + END_EMPTY
        + "data: [DONE]\n\n"
    )  # fmt: skip


def test_an_agent_run_tool_named_like_a_client_tool_stays_aside() -> None:
    frames = render(CASES["tool_call"], client_tools=frozenset({"get_weather"}))
    assert frames == render(CASES["tool_call"])


def test_documents_and_shield_verdicts_ride_in_gateway_event_with_an_empty_delta() -> None:
    frames = render(CASES["documents"]).split("\n\n")
    assert frames[1] == (
        "data: " + CHOICE + '{},"logprobs":null,"finish_reason":null}],'
        '"gateway_event":{"type":"shield","chunk":0,"step":"shield_call","violation":null}}'
    )
    assert frames[3] == (
        "data: " + CHOICE + '{},"logprobs":null,"finish_reason":null}],'
        '"gateway_event":{"type":"documents","chunk":1,"step":"tool_execution","documents":['
        '{"url":"https://docs.example.com/a","title":"About OpenShift","document_id":"a"},'
        '{"url":"https://docs.example.com/b","title":"Installing","document_id":"b"}]}}'
    )
    assert frames[-3].startswith(
        "data: " + CHOICE + '{},"logprobs":null,"finish_reason":"stop"}],'
        '"gateway_event":{"type":"end","chunk":null,"referenced_documents":[{"url":'
    )


def test_a_shield_violation_sends_the_refusal_as_content_and_finishes_with_content_filter() -> None:
    frames = render(CASES["shield_violation"]).split("\n\n")
    assert frames[2] == (
        "data: " + CHOICE + '{"content":"I can\'t answer that."},"logprobs":null,'
        '"finish_reason":null}]}'
    )
    assert frames[3] == (
        "data: " + CHOICE + '{},"logprobs":null,"finish_reason":"content_filter"}],' + END_EMPTY
    ).removesuffix("\n\n")


def test_an_error_is_the_error_object_the_sdks_raise_then_done_without_a_finish_chunk() -> None:
    assert render(CASES["error_mid_stream"]) == (
        START_CHUNK
        + "data: " + CHOICE + '{"content":"Partial"},"logprobs":null,"finish_reason":null}]}\n\n'
        'data: {"error":{"message":"500: Internal server error","type":"server_error",'
        '"param":null,"code":"upstream_error"}}\n\n'
        "data: [DONE]\n\n"
    )  # fmt: skip


def test_heartbeats_are_sse_comments() -> None:
    assert texts(OpenAIFormatter().format(HeartbeatEvent())) == [": keep-alive\n\n"]


def test_include_usage_adds_null_usage_to_every_chunk_and_a_usage_chunk_before_done() -> None:
    events: list[Event] = [
        START,
        TextDeltaEvent(chunk=0, text="Hi"),
        EndEvent(input_tokens=7, output_tokens=2),
    ]
    frames = render(events, include_usage=True).split("\n\n")
    assert frames[1] == (
        "data: " + CHOICE + '{"content":"Hi"},"logprobs":null,"finish_reason":null}],"usage":null}'
    )
    assert frames[2].startswith(
        "data: " + CHOICE + '{},"logprobs":null,"finish_reason":"stop"}],"usage":null,'
    )
    assert frames[3] == (
        "data: " + HEAD + '"choices":[],'
        '"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}'
    )
    assert frames[4:] == ["data: [DONE]", ""]


CLIENT_TURN: list[Event] = [
    START,
    ToolCallDeltaEvent(chunk=0, step="inference", call_id="call_1", name="get_weather", delta=""),
    ToolCallDeltaEvent(chunk=1, step="inference", call_id="call_1", delta='{"city":"test"}'),
    ToolCallEvent(
        chunk=2, step="inference", call_id="call_1", name="get_weather", arguments={"city": "test"}
    ),
    TurnAwaitingInputEvent(chunk=3),
    EndEvent(),
]
CLIENT_CALL_ID = client_call_id(START.conversation_id, "call_1")


def test_a_turn_paused_for_a_client_tool_hands_it_over_as_tool_calls() -> None:
    frames = render(CLIENT_TURN, client_tools=frozenset({"get_weather", "other"})).split("\n\n")
    assert frames[1:] == [
        gateway('{"type":"tool_call","chunk":2,"step":"inference","call_id":"call_1",'
        '"name":"get_weather","arguments":{"city":"test"}}}'),
        "data: " + CHOICE + '{"tool_calls":[{"index":0,"id":"' + CLIENT_CALL_ID + '",'
        '"type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"test\\"}"}}]},'
        '"logprobs":null,"finish_reason":null}]}',
        gateway('{"type":"turn_awaiting_input","chunk":3}}'),
        "data: " + CHOICE + '{},"logprobs":null,"finish_reason":"tool_calls"}],' + END_EMPTY[:-2],
        "data: [DONE]",
        "",
    ]  # fmt: skip
    assert parse_client_call_id(CLIENT_CALL_ID) == (START.conversation_id, "call_1")


def test_a_paused_turn_calling_no_client_tool_finishes_with_stop_and_hands_nothing_over() -> None:
    frames = render(CLIENT_TURN, client_tools=frozenset({"other"}))
    assert "tool_calls" not in frames
    assert '"finish_reason":"stop"' in frames.split("\n\n")[-3]


def test_defaults_give_a_fresh_id_the_current_time_and_the_default_model() -> None:
    (frame,) = texts(OpenAIFormatter().format(START))
    chunk = json.loads(frame.removeprefix("data: "))
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{32}", chunk["id"])
    assert chunk["model"] == DEFAULT_MODEL
    assert isinstance(chunk["created"], int) and chunk["created"] > 1_700_000_000
    (other,) = texts(OpenAIFormatter().format(START))
    assert json.loads(other.removeprefix("data: "))["id"] != chunk["id"]


def assemble(events: list[Event], client_tools: frozenset[str] = frozenset()) -> CompletionBuilder:
    chunks = ChunkBuilder(
        completion_id="chatcmpl-1",
        created=1700000000,
        model="m",
        include_usage=True,
        client_tools=client_tools,
    )
    builder = CompletionBuilder()
    for event in events:
        for payload in chunks.payloads(event):
            builder.add(payload)
    return builder


def test_the_chunks_of_a_tool_call_turn_assemble_into_one_chat_completion() -> None:
    builder = assemble([*CASES["tool_call"][:-1], EndEvent(input_tokens=5, output_tokens=3)])
    assert builder.error is None
    completion = builder.completion()
    events = completion.pop("gateway_events")
    assert completion == {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "It is sunny.", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }
    assert events == [
        event_object(event)
        for event in CASES["tool_call"]
        if event.type in ("start", "tool_call", "tool_result")
    ] + [event_object(EndEvent(input_tokens=5, output_tokens=3))]


def test_an_assembled_turn_without_text_but_with_tool_calls_has_null_content() -> None:
    builder = assemble(
        [START, ToolCallEvent(call_id="x", name="f", arguments="{}"), TurnAwaitingInputEvent()],
        frozenset({"f"}),
    )
    choice = builder.completion()["choices"][0]
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [
        {
            "id": client_call_id(START.conversation_id, "x"),
            "type": "function",
            "function": {"name": "f", "arguments": "{}"},
        }
    ]


def test_an_assembled_failed_turn_reports_the_error() -> None:
    builder = assemble(CASES["error_mid_stream"])
    assert builder.error == {
        "message": "500: Internal server error",
        "type": "server_error",
        "param": None,
        "code": "upstream_error",
    }


def test_usage_events_alone_change_nothing_until_the_end_event() -> None:
    assert (
        ChunkBuilder(completion_id="c", created=0, model="m", include_usage=True).payloads(
            UsageEvent(input_tokens=1)
        )
        == []
    )


def test_reasoning_is_delta_reasoning_content_as_deepseek_vllm_and_litellm_send_it() -> None:
    formatter = OpenAIFormatter(completion_id="chatcmpl-1", created=1700000000, model="m")
    assert texts(formatter.format(ReasoningDeltaEvent(chunk=0, text="Hmm."))) == [
        "data: "
        + CHOICE
        + '{"reasoning_content":"Hmm."},"logprobs":null,"finish_reason":null}]}\n\n'
    ]
