"""The vercel formatter's exact bytes: AI SDK UI message stream parts, then [DONE]."""

from __future__ import annotations

from formatters.events import (
    Document,
    DocumentsEvent,
    EndEvent,
    Event,
    HeartbeatEvent,
    ReasoningDeltaEvent,
    StepEndEvent,
    StepStartEvent,
    TextDeltaEvent,
    ToolCallDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnAwaitingInputEvent,
)
from formatters.vercel import VercelFormatter
from tests.formatters.cases import CASES, START, texts

START_PART = (
    'data: {"type":"start","messageMetadata":'
    '{"conversation_id":"c0ffee00-0000-0000-0000-000000000000"}}\n\n'
)
AGENT_TOOL = '"providerExecuted":true,"dynamic":true}\n\n'


def render(events: list[Event]) -> str:
    formatter = VercelFormatter()
    return "".join(frame for event in events for frame in texts(formatter.format(event)))


def test_the_stream_declares_the_protocol_version_in_a_header() -> None:
    assert dict(VercelFormatter.headers) == {"x-vercel-ai-ui-message-stream": "v1"}


def test_text_only_case() -> None:
    assert render(CASES["text_only"]) == (
        START_PART + 'data: {"type":"start-step"}\n\n'
        'data: {"type":"text-start","id":"text-1"}\n\n'
        'data: {"type":"text-delta","id":"text-1","delta":"Hello, "}\n\n'
        'data: {"type":"text-delta","id":"text-1","delta":"w\\u00f6rld \\"quoted\\"\\nnext line"}\n\n'
        'data: {"type":"text-end","id":"text-1"}\n\n'
        'data: {"type":"finish-step"}\n\n'
        'data: {"type":"finish","finishReason":"stop"}\n\n'
        "data: [DONE]\n\n"
    )


def test_tool_call_case_ties_input_and_output_to_the_call_id() -> None:
    assert render(CASES["tool_call"]) == (
        START_PART + 'data: {"type":"start-step"}\n\n'
        'data: {"type":"tool-input-start","toolCallId":"c1","toolName":"get_weather",'
        + AGENT_TOOL
        + 'data: {"type":"tool-input-delta","toolCallId":"c1",'
        '"inputTextDelta":"{\\"city\\":\\"Paris\\"}"}\n\n'
        'data: {"type":"tool-input-available","toolCallId":"c1","toolName":"get_weather",'
        '"input":{"city":"Paris"},' + AGENT_TOOL + 'data: {"type":"tool-output-available",'
        '"toolCallId":"c1","output":[{"type":"text","text":"sunny, 21 \\u00b0C"}],'
        + AGENT_TOOL
        + 'data: {"type":"text-start","id":"text-1"}\n\n'
        'data: {"type":"text-delta","id":"text-1","delta":"It is sunny."}\n\n'
        'data: {"type":"text-end","id":"text-1"}\n\n'
        'data: {"type":"finish-step"}\n\n'
        'data: {"type":"finish","finishReason":"stop"}\n\n'
        "data: [DONE]\n\n"
    )


def test_documents_are_source_urls_once_and_shield_verdicts_are_data_parts() -> None:
    assert render(CASES["documents"]) == (
        START_PART
        + 'data: {"type":"data-shield","data":{"step":"shield_call","violation":null}}\n\n'
        'data: {"type":"start-step"}\n\n'
        'data: {"type":"tool-input-start","toolCallId":"k1","toolName":"knowledge_search",'
        + AGENT_TOOL
        + 'data: {"type":"tool-input-available","toolCallId":"k1","toolName":"knowledge_search",'
        '"input":null,' + AGENT_TOOL + 'data: {"type":"tool-output-available","toolCallId":"k1",'
        '"output":[{"type":"text","text":"knowledge_search tool found 2 chunks:\\nBEGIN"}],'
        + AGENT_TOOL
        + 'data: {"type":"source-url","sourceId":"a","url":"https://docs.example.com/a",'
        '"title":"About OpenShift"}\n\n'
        'data: {"type":"source-url","sourceId":"b","url":"https://docs.example.com/b",'
        '"title":"Installing"}\n\n'
        'data: {"type":"text-start","id":"text-1"}\n\n'
        'data: {"type":"text-delta","id":"text-1","delta":"OpenShift is a platform."}\n\n'
        'data: {"type":"text-end","id":"text-1"}\n\n'
        'data: {"type":"finish-step"}\n\n'
        'data: {"type":"finish","finishReason":"stop"}\n\n'
        "data: [DONE]\n\n"
    )


def test_a_shield_violation_is_a_data_part_the_refusal_text_and_a_content_filter_finish() -> None:
    assert render(CASES["shield_violation"]) == (
        START_PART + 'data: {"type":"data-shield","data":{"step":"shield_call","violation":'
        '{"user_message":"I can\'t answer that.","metadata":{"violation_type":"S1"},'
        '"level":null}}}\n\n'
        'data: {"type":"start-step"}\n\n'
        'data: {"type":"text-start","id":"text-1"}\n\n'
        'data: {"type":"text-delta","id":"text-1","delta":"I can\'t answer that."}\n\n'
        'data: {"type":"text-end","id":"text-1"}\n\n'
        'data: {"type":"finish-step"}\n\n'
        'data: {"type":"finish","finishReason":"content-filter"}\n\n'
        "data: [DONE]\n\n"
    )


def test_an_error_closes_the_open_text_then_finish_says_error() -> None:
    assert render(CASES["error_mid_stream"]) == (
        START_PART + 'data: {"type":"start-step"}\n\n'
        'data: {"type":"text-start","id":"text-1"}\n\n'
        'data: {"type":"text-delta","id":"text-1","delta":"Partial"}\n\n'
        'data: {"type":"text-end","id":"text-1"}\n\n'
        'data: {"type":"error","errorText":"500: Internal server error"}\n\n'
        'data: {"type":"finish-step"}\n\n'
        'data: {"type":"finish","finishReason":"error"}\n\n'
        "data: [DONE]\n\n"
    )


def test_heartbeats_are_the_ai_sdks_own_keep_alive_comment() -> None:
    assert texts(VercelFormatter().format(HeartbeatEvent())) == [": keep-alive\n\n"]


def test_each_inference_step_is_a_step_and_each_text_block_gets_a_new_id() -> None:
    events: list[Event] = [
        START,
        StepStartEvent(chunk=0, step="inference"),
        TextDeltaEvent(chunk=1, text="Let me look."),
        ToolCallEvent(chunk=2, call_id="t", name="search", arguments={"q": "x"}),
        StepEndEvent(chunk=3, step="inference"),
        StepStartEvent(chunk=4, step="tool_execution"),
        ToolResultEvent(chunk=5, call_id="t", name="search", content="boom", failed=True),
        StepStartEvent(chunk=6, step="inference"),
        TextDeltaEvent(chunk=7, text="Sorry."),
        EndEvent(),
    ]
    parts = render(events).split("\n\n")
    assert [part.removeprefix('data: {"type":"').split('"')[0] for part in parts[1:-2]] == [
        "start-step",
        "text-start",
        "text-delta",
        "text-end",
        "tool-input-start",
        "tool-input-delta",
        "tool-input-available",
        "tool-output-error",
        "finish-step",
        "start-step",
        "text-start",
        "text-delta",
        "text-end",
        "finish-step",
        "finish",
    ]
    assert parts[-2:] == ["data: [DONE]", ""]
    assert parts[8] == (
        'data: {"type":"tool-output-error","toolCallId":"t","errorText":"boom",'
        + AGENT_TOOL.removesuffix("\n\n")
    )
    assert parts[11] == 'data: {"type":"text-start","id":"text-2"}'


def test_streamed_tool_input_deltas_are_forwarded_and_completed_once() -> None:
    events: list[Event] = [
        START,
        ToolCallDeltaEvent(chunk=0, call_id="a", name="lookup", delta='{"id":'),
        ToolCallDeltaEvent(chunk=1, call_id="a", delta="7}"),
        ToolCallDeltaEvent(chunk=2, delta="[no id("),
        ToolCallEvent(chunk=3, call_id="a", name="lookup", arguments={"id": 7}),
        ToolCallEvent(chunk=4, step="tool_execution", call_id="a", name="lookup", arguments={}),
        EndEvent(),
    ]
    assert render(events) == (
        START_PART + 'data: {"type":"start-step"}\n\n'
        'data: {"type":"tool-input-start","toolCallId":"a","toolName":"lookup",' + AGENT_TOOL
        + 'data: {"type":"tool-input-delta","toolCallId":"a","inputTextDelta":"{\\"id\\":"}\n\n'
        'data: {"type":"tool-input-delta","toolCallId":"a","inputTextDelta":"7}"}\n\n'
        'data: {"type":"tool-input-available","toolCallId":"a","toolName":"lookup",'
        '"input":{"id":7},' + AGENT_TOOL
        + 'data: {"type":"finish-step"}\n\n'
        'data: {"type":"finish","finishReason":"stop"}\n\n'
        "data: [DONE]\n\n"
    )  # fmt: skip


def test_a_turn_awaiting_client_tool_results_finishes_with_tool_calls() -> None:
    events: list[Event] = [
        START,
        ToolCallEvent(call_id="c", name="f", arguments={}),
        TurnAwaitingInputEvent(),
    ]
    assert render([*events, EndEvent()]).endswith(
        'data: {"type":"finish","finishReason":"tool-calls"}\n\ndata: [DONE]\n\n'
    )


def test_referenced_documents_not_yet_sent_go_out_before_finish() -> None:
    docs = [Document(url="https://d/1", title="One"), Document(url="https://d/2", title="Two")]
    events: list[Event] = [
        START,
        DocumentsEvent(documents=docs[:1]),
        EndEvent(referenced_documents=docs),
    ]
    assert render(events) == (
        START_PART + 'data: {"type":"source-url","sourceId":"https://d/1","url":"https://d/1",'
        '"title":"One"}\n\n'
        'data: {"type":"source-url","sourceId":"https://d/2","url":"https://d/2",'
        '"title":"Two"}\n\n'
        'data: {"type":"finish","finishReason":"stop"}\n\n'
        "data: [DONE]\n\n"
    )


def test_reasoning_is_its_own_block_before_the_text() -> None:
    events: list[Event] = [
        START,
        ReasoningDeltaEvent(chunk=0, text="The user wants "),
        ReasoningDeltaEvent(chunk=1, text="a greeting."),
        TextDeltaEvent(chunk=2, text="Hello!"),
        EndEvent(),
    ]
    assert render(events) == (
        START_PART + 'data: {"type":"start-step"}\n\n'
        'data: {"type":"reasoning-start","id":"reasoning-1"}\n\n'
        'data: {"type":"reasoning-delta","id":"reasoning-1","delta":"The user wants "}\n\n'
        'data: {"type":"reasoning-delta","id":"reasoning-1","delta":"a greeting."}\n\n'
        'data: {"type":"reasoning-end","id":"reasoning-1"}\n\n'
        'data: {"type":"text-start","id":"text-1"}\n\n'
        'data: {"type":"text-delta","id":"text-1","delta":"Hello!"}\n\n'
        'data: {"type":"text-end","id":"text-1"}\n\n'
        'data: {"type":"finish-step"}\n\n'
        'data: {"type":"finish","finishReason":"stop"}\n\n'
        "data: [DONE]\n\n"
    )
