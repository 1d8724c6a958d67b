"""The anthropic formatter's exact bytes: Messages stream events, the agent's tools as MCP blocks."""

from __future__ import annotations

import json

from formatters.anthropic import AnthropicFormatter, MessageAssembler, MessageEvents
from formatters.events import EndEvent, ErrorEvent, Event, ToolCallEvent
from tests.formatters.cases import CASES, texts

MESSAGE_START = (
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message",'
    '"role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,'
    '"usage":{"input_tokens":0,"output_tokens":0},'
    '"conversation_id":"c0ffee00-0000-0000-0000-000000000000"}}\n\n'
)


def render(events: list[Event]) -> str:
    formatter = AnthropicFormatter(model="m", message_id="msg_1")
    return "".join(frame for event in events for frame in texts(formatter.format(event)))


def frame(payload: str) -> str:
    kind = json.loads(payload)["type"]
    return f"event: {kind}\ndata: {payload}\n\n"


def end(stop_reason: str = "end_turn") -> str:
    return frame(
        '{"type":"message_delta","delta":{"stop_reason":"' + stop_reason + '",'
        '"stop_sequence":null},"usage":{"input_tokens":0,"output_tokens":0}}'
    ) + frame('{"type":"message_stop"}')


def test_text_only_case() -> None:
    assert render(CASES["text_only"]) == (
        MESSAGE_START
        + frame(
            '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}'
        )
        + frame(
            '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello, "}}'
        )
        + frame(
            '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta",'
            '"text":"w\\u00f6rld \\"quoted\\"\\nnext line"}}'
        )
        + frame('{"type":"content_block_stop","index":0}')
        + end()
    )


def test_the_agent_s_tool_call_and_result_are_mcp_blocks_between_the_text_blocks() -> None:
    assert render(CASES["tool_call"]) == (
        MESSAGE_START
        + frame(
            '{"type":"content_block_start","index":0,"content_block":{"type":"mcp_tool_use",'
            '"id":"c1","name":"get_weather","server_name":"agent","input":{}}}'
        )
        + frame(
            '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta",'
            '"partial_json":"{\\"city\\":\\"Paris\\"}"}}'
        )
        + frame('{"type":"content_block_stop","index":0}')
        + frame(
            '{"type":"content_block_start","index":1,"content_block":{"type":"mcp_tool_result",'
            '"tool_use_id":"c1","is_error":false,"content":[{"type":"text","text":"sunny, 21 \\u00b0C"}]}}'
        )
        + frame('{"type":"content_block_stop","index":1}')
        + frame(
            '{"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}'
        )
        + frame(
            '{"type":"content_block_delta","index":2,"delta":{"type":"text_delta",'
            '"text":"It is sunny."}}'
        )
        + frame('{"type":"content_block_stop","index":2}')
        + end()
    )


def test_a_shield_violation_is_a_refusal_with_its_message_as_the_text() -> None:
    assert render(CASES["shield_violation"]) == (
        MESSAGE_START
        + frame(
            '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}'
        )
        + frame(
            '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta",'
            '"text":"I can\'t answer that."}}'
        )
        + frame('{"type":"content_block_stop","index":0}')
        + end("refusal")
    )


def test_an_error_is_the_error_event_then_message_stop_with_no_summary() -> None:
    assert render(CASES["error_mid_stream"]) == (
        MESSAGE_START
        + frame(
            '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}'
        )
        + frame(
            '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Partial"}}'
        )
        + frame(
            '{"type":"error","error":{"type":"api_error","message":"500: Internal server error"}}'
        )
        + frame('{"type":"message_stop"}')
    )


def test_the_gateway_s_own_errors_have_anthropic_s_error_types() -> None:
    timeout = ErrorEvent(message="m", source="gateway", code="timeout")
    drained = ErrorEvent(message="m", source="gateway", code="drained")
    assert render([timeout]).startswith(
        'event: error\ndata: {"type":"error","error":{"type":"timeout_error","message":"m"}}\n\n'
    )
    assert '"type":"overloaded_error"' in render([drained])


def test_heartbeats_are_pings() -> None:
    assert render(CASES["long_silence"]).count('event: ping\ndata: {"type":"ping"}\n\n') == 5


def test_a_stream_that_ends_before_it_started_is_still_a_whole_message() -> None:
    assert render([EndEvent(truncated=True, output_tokens=7)]) == (
        MESSAGE_START.replace(',"conversation_id":"c0ffee00-0000-0000-0000-000000000000"', "")
        + frame(
            '{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},'
            '"usage":{"input_tokens":0,"output_tokens":7}}'
        )
        + frame('{"type":"message_stop"}')
    )


def test_tool_arguments_that_are_not_a_json_object_are_wrapped_in_one() -> None:
    call = ToolCallEvent(call_id="c", name="n", arguments="not json")
    assert '"partial_json":"{\\"arguments\\":\\"not json\\"}"' in render([call])
    assert '"partial_json":"{}"' in render([ToolCallEvent(call_id="c", name="n", arguments="")])


def test_the_assembler_folds_the_events_into_the_message_the_sdk_would_build() -> None:
    events = MessageEvents(message_id="msg_1", model="m")
    message = MessageAssembler()
    for event in CASES["tool_call"]:
        for payload in events.payloads(event):
            message.add(payload)
    assert message.message() == {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [
            {
                "type": "mcp_tool_use",
                "id": "c1",
                "name": "get_weather",
                "server_name": "agent",
                "input": {"city": "Paris"},
            },
            {
                "type": "mcp_tool_result",
                "tool_use_id": "c1",
                "is_error": False,
                "content": [{"type": "text", "text": "sunny, 21 °C"}],
            },
            {"type": "text", "text": "It is sunny."},
        ],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 0},
        "conversation_id": "c0ffee00-0000-0000-0000-000000000000",
    }
    assert message.error is None
