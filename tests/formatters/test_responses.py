"""The responses formatter's exact frames: lifecycle, text, server-side tool items, errors."""

from __future__ import annotations

import json
from typing import Any

from formatters.events import EndEvent, ErrorEvent, Event, HeartbeatEvent, TurnAwaitingInputEvent
from formatters.frames import Frame
from formatters.responses import (
    ResponseBuilder,
    ResponsesFormatter,
    parse_response_id,
    response_id,
)
from tests.formatters.cases import CASES, START, texts

STREAM = "s" * 22
CONVERSATION = START.conversation_id
RESPONSE_ID = response_id(STREAM, CONVERSATION)
MSG = f"msg_{STREAM}_"
USAGE = {
    "input_tokens": 0,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 0,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 0,
}


def response(status: str, output: list[Any], **fields: Any) -> dict[str, Any]:
    return {
        "id": RESPONSE_ID,
        "object": "response",
        "created_at": 1700000000,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": "m",
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "conversation": {"id": CONVERSATION},
        "store": True,
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": None,
        "truncation": "disabled",
        "usage": None,
        "metadata": {},
        **fields,
    }


def render(events: list[Event]) -> list[str]:
    formatter = ResponsesFormatter(model="m", stream_id=STREAM, created_at=1700000000)
    return [frame for event in events for frame in texts(formatter.format(event))]


def payloads(events: list[Event]) -> list[dict[str, Any]]:
    """Every frame's data as JSON, checked against its `event:` line (keep-alives left out)."""
    out = []
    for frame in render(events):
        if frame.startswith(":"):
            continue
        event_line, data_line, blank = frame.split("\n", 2)
        data = json.loads(data_line.removeprefix("data: "))
        assert event_line == f"event: {data['type']}" and blank == "\n"
        out.append(data)
    return out


def message(text: str, status: str, index: int = 0) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {
        "id": f"{MSG}{index}",
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": [part],
    }


def text_events(text: str, deltas: list[str], index: int, seq: int, status: str) -> list[Any]:
    where = {"item_id": f"{MSG}{index}", "output_index": index, "content_index": 0}
    empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    added = {**message("", "in_progress", index), "content": []}
    events: list[dict[str, Any]] = [
        {"type": "response.output_item.added", "output_index": index, "item": added},
        {"type": "response.content_part.added", **where, "part": empty},
        *[
            {"type": "response.output_text.delta", **where, "delta": d, "logprobs": []}
            for d in deltas
        ],
        {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **where, "part": {**empty, "text": text}},
        {
            "type": "response.output_item.done",
            "output_index": index,
            "item": message(text, status, index),
        },
    ]
    return [{**event, "sequence_number": seq + i} for i, event in enumerate(events)]


def test_a_text_turn_is_the_responses_lifecycle_byte_for_byte():
    frames = render(CASES["text_only"])
    assert frames[0] == (
        "event: response.created\ndata: "
        + json.dumps(
            {
                "type": "response.created",
                "response": response("in_progress", []),
                "sequence_number": 0,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )
        + "\n\n"
    )
    text = 'Hello, wörld "quoted"\nnext line'
    assert payloads(CASES["text_only"]) == [
        {"type": "response.created", "response": response("in_progress", []), "sequence_number": 0},
        {
            "type": "response.in_progress",
            "response": response("in_progress", []),
            "sequence_number": 1,
        },
        *text_events(text, ["Hello, ", 'wörld "quoted"\nnext line'], 0, 2, "completed"),
        {
            "type": "response.completed",
            "response": response("completed", [message(text, "completed")], usage=USAGE),
            "sequence_number": 9,
        },
    ]


def test_an_error_is_an_error_event_then_response_failed():
    error = {
        "type": "server_error",
        "code": "upstream_error",
        "message": "500: Internal server error",
    }
    events = payloads(CASES["error_mid_stream"])
    assert events[5] == {
        "type": "error",
        "code": "upstream_error",
        "message": "500: Internal server error",
        "param": None,
        "error": error,
        "sequence_number": 5,
    }
    assert events[6:-1] == text_events("Partial", [], 0, 4, "incomplete")[2:]
    assert events[-1] == {
        "type": "response.failed",
        "response": response(
            "failed",
            [message("Partial", "incomplete")],
            error={"code": "upstream_error", "message": "500: Internal server error"},
            usage=USAGE,
        ),
        "sequence_number": 9,
    }


def test_the_agents_tool_is_an_mcp_call_item_never_a_function_call():
    events = payloads(CASES["tool_call"])
    call = {
        "id": "c1",
        "type": "mcp_call",
        "status": "in_progress",
        "server_label": "agent",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
        "output": None,
        "error": None,
    }
    done = {
        **call,
        "status": "completed",
        "arguments": '{"city":"Paris","days":2}',
        "output": "sunny, 21 °C",
    }
    assert events[2:6] == [
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": call,
            "sequence_number": 2,
        },
        {
            "type": "response.mcp_call.in_progress",
            "item_id": "c1",
            "output_index": 0,
            "sequence_number": 3,
        },
        {
            "type": "response.mcp_call.completed",
            "item_id": "c1",
            "output_index": 0,
            "sequence_number": 4,
        },
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": done,
            "sequence_number": 5,
        },
    ]
    assert events[-1]["response"]["output"] == [done, message("It is sunny.", "completed", 1)]
    assert "function_call" not in json.dumps(events)


def test_knowledge_search_is_a_file_search_call_with_the_documents_as_results():
    events = payloads(CASES["documents"])
    (item,) = [e["item"] for e in events if e["type"] == "response.output_item.done"][:1]
    assert [e["type"] for e in events[2:7]] == [
        "response.output_item.added",
        "response.file_search_call.in_progress",
        "response.file_search_call.searching",
        "response.file_search_call.completed",
        "response.output_item.done",
    ]
    assert item == {
        "id": "k1",
        "type": "file_search_call",
        "status": "completed",
        "queries": [],
        "results": [
            {
                "file_id": "a",
                "filename": "About OpenShift",
                "score": None,
                "text": None,
                "attributes": {"url": "https://docs.example.com/a"},
            },
            {
                "file_id": "b",
                "filename": "Installing",
                "score": None,
                "text": None,
                "attributes": {"url": "https://docs.example.com/b"},
            },
        ],
    }


def test_a_shield_violation_is_an_incomplete_response_for_its_content_filter():
    final = payloads(CASES["shield_violation"])[-1]
    assert final["type"] == "response.incomplete"
    assert final["response"]["incomplete_details"] == {"reason": "content_filter"}
    assert final["response"]["output"] == [message("I can't answer that.", "completed")]


def test_a_call_left_for_the_client_is_closed_incomplete_at_the_end():
    events = [*CASES["tool_call"][:6], TurnAwaitingInputEvent(), EndEvent()]
    final = payloads(events)
    assert [e["type"] for e in final[-2:]] == ["response.output_item.done", "response.incomplete"]
    assert final[-2]["item"]["status"] == "incomplete"


def test_a_keep_alive_is_a_comment_that_takes_one_sequence_number():
    frames = render([START, HeartbeatEvent(), EndEvent()])
    assert frames[2] == ": keep-alive\n\n"
    assert json.loads(frames[3].split("\n")[1].removeprefix("data: "))["sequence_number"] == 3


def test_the_builder_folds_the_final_response_without_frames():
    builder = ResponseBuilder(stream_id=STREAM, model="m", created_at=1700000000)
    for event in CASES["text_only"]:
        builder.payloads(event)
    text = 'Hello, wörld "quoted"\nnext line'
    assert builder.final == response("completed", [message(text, "completed")], usage=USAGE)


def test_a_response_id_carries_its_stream_and_conversation():
    assert f"resp_{STREAM}.YzBmZmVlMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw" == RESPONSE_ID
    assert parse_response_id(RESPONSE_ID) == (STREAM, CONVERSATION)
    assert parse_response_id("resp_nope") is None
    assert parse_response_id("chatcmpl-1.abc") is None
    assert parse_response_id("resp_x.%%%") is None


def test_the_epilogue_continues_the_response_its_items_and_its_sequence():
    formatter = ResponsesFormatter(model="m", stream_id=STREAM, created_at=1700000000)
    for event in CASES["text_only"][:3]:
        formatter.format(event)
    closing = [
        json.loads(frame.data)
        for frame in formatter.epilogue(ErrorEvent(message="x"), EndEvent())
        if isinstance(frame, Frame)
    ]
    assert [(e["type"], e["sequence_number"]) for e in closing] == [
        ("error", 5),
        ("response.output_text.done", 6),
        ("response.content_part.done", 7),
        ("response.output_item.done", 8),
        ("response.failed", 9),
    ]
    assert closing[-1]["response"]["id"] == RESPONSE_ID
    assert closing[-1]["response"]["output"] == [message("Hello, ", "incomplete")]
    (after,) = formatter.format(CASES["text_only"][3])  # the formatter itself goes on unchanged
    assert isinstance(after, Frame)
    assert (json.loads(after.data)["type"], json.loads(after.data)["sequence_number"]) == (
        "response.output_text.delta",
        5,
    )
