"""The lightspeed-0.2 formatter's exact bytes: 0.1's frames, with tool runs as token objects."""

from __future__ import annotations

from formatters.events import (
    ApprovalResultEvent,
    Event,
    ImageContent,
    TextContent,
    ToolCallEvent,
    ToolResultEvent,
)
from formatters.lightspeed_01 import Lightspeed01Formatter
from formatters.lightspeed_02 import Lightspeed02Formatter
from tests.formatters.cases import CASES, texts


def render(events: list[Event]) -> str:
    formatter = Lightspeed02Formatter()
    return "".join(frame for event in events for frame in texts(formatter.format(event)))


def test_tool_call_case() -> None:
    assert render(CASES["tool_call"]) == (
        'data: {"event": "start", "data": {"conversation_id": "c0ffee00-0000-0000-0000-000000000000"}}\n\n'
        'data: {"event": "token", "data": {"id": 0, "token": ""}}\n\n'
        'data: {"event": "token", "data": {"id": 1, "role": "inference", "token": ""}}\n\n'
        'data: {"event": "tool_call", "data": {"id": 2, "role": "inference", "token": ""}}\n\n'
        'data: {"event": "tool_call", "data": {"id": 3, "role": "inference", "token": "[get_weather(city="}}\n\n'
        'data: {"event": "tool_call", "data": {"id": 4, "role": "inference", "token": "get_weather"}}\n\n'
        'data: {"event": "tool_call", "data": {"id": 5, "role": "tool_execution", "token": ""}}\n\n'
        'data: {"event": "tool_call", "data": {"id": 6, "role": "tool_execution", "token": {"tool_name": "get_weather", "arguments": {"city": "Paris", "days": 2.0}}}}\n\n'
        'data: {"event": "tool_call", "data": {"id": 6, "role": "tool_execution", "token": {"tool_name": "get_weather", "response": "sunny, 21 \\u00b0C"}}}\n\n'
        'data: {"event": "token", "data": {"id": 8, "role": "inference", "token": "It is sunny."}}\n\n'
        'data: {"event": "turn_complete", "data": {"id": 9, "token": "It is sunny."}}\n\n'
        'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, "input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
    )


def test_knowledge_search_result_is_its_summary() -> None:
    frames = render(CASES["documents"]).split("\n\n")
    assert frames[2] == (
        'data: {"event": "tool_call", "data": {"id": 1, "role": "tool_execution", "token": '
        '{"tool_name": "knowledge_search", "summary": "knowledge_search tool found 2 chunks:"}}}'
    )


def tool_frames(*events: Event) -> list[str]:
    formatter = Lightspeed02Formatter()
    return [frame for event in events for frame in texts(formatter.format(event))]


def test_results_are_their_text_with_images_as_placeholders() -> None:
    content = [TextContent(text="a"), ImageContent(url="https://i/x.png"), TextContent(text="b")]
    memory = ToolResultEvent(chunk=1, call_id="c", name="query_from_memory", content=content)
    other = ToolResultEvent(chunk=1, call_id="c", name="shell", content="plain\ntext")
    assert tool_frames(memory, other) == [
        'data: {"event": "tool_call", "data": {"id": 0, "role": "tool_execution", "token": '
        '{"tool_name": "query_from_memory", "response": "Fetched 11 bytes from memory"}}}\n\n',
        'data: {"event": "tool_call", "data": {"id": 0, "role": "tool_execution", "token": '
        '{"tool_name": "shell", "response": "plain\\ntext"}}}\n\n',
    ]


def test_arguments_keep_the_client_s_floats_and_a_string_stays_a_string() -> None:
    nested = ToolCallEvent(
        chunk=1,
        step="tool_execution",
        call_id="c",
        name="f",
        arguments={"n": 5, "l": [1, True], "d": {"k": 2}},
    )
    raw = ToolCallEvent(chunk=2, step="tool_execution", call_id="c", name="g", arguments="x=1")
    assert tool_frames(nested, raw) == [
        'data: {"event": "tool_call", "data": {"id": 0, "role": "tool_execution", "token": '
        '{"tool_name": "f", "arguments": {"n": 5.0, "l": [1.0, true], "d": {"k": 2.0}}}}}\n\n',
        'data: {"event": "tool_call", "data": {"id": 1, "role": "tool_execution", "token": '
        '{"tool_name": "g", "arguments": "x=1"}}}\n\n',
    ]


def test_every_other_frame_is_0_1_s() -> None:
    for name, events in CASES.items():
        old, new = Lightspeed01Formatter(), Lightspeed02Formatter()
        for event in events:
            mine, theirs = texts(new.format(event)), texts(old.format(event))
            tool_run = isinstance(event, ToolResultEvent | ApprovalResultEvent) or (
                isinstance(event, ToolCallEvent) and event.step == "tool_execution"
            )
            assert len(mine) == len(theirs)
            if not tool_run:
                assert mine == theirs, (name, event)
