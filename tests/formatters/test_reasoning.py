"""Each format's reasoning parts, byte for byte: the model's reasoning apart from its answer."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from formatters import ag_ui
from formatters.a2a import A2aFormatter
from formatters.ag_ui import AgUiFormatter
from formatters.anthropic import AnthropicFormatter, MessageAssembler, MessageEvents
from formatters.base import Formatter
from formatters.events import (
    EndEvent,
    Event,
    ReasoningDeltaEvent,
    StartEvent,
    StepEndEvent,
    StepStartEvent,
    TextDeltaEvent,
    ToolCallEvent,
    TurnCompleteEvent,
)
from formatters.lightspeed_01 import Lightspeed01Formatter
from formatters.lightspeed_02 import Lightspeed02Formatter
from formatters.lightspeed_03 import Lightspeed03Formatter
from formatters.lightspeed_04 import Lightspeed04Formatter
from formatters.lightspeed_07 import Lightspeed07Formatter
from formatters.openai import ChunkBuilder, CompletionBuilder, OpenAIFormatter
from formatters.patternfly import PatternflyFormatter
from formatters.plain_text import PlainTextFormatter
from formatters.responses import ResponsesFormatter
from tests.formatters.cases import texts

START = StartEvent(conversation_id="c1")
THINK = ReasoningDeltaEvent(chunk=0, step="inference", text="Think")
HARD = ReasoningDeltaEvent(chunk=1, step="inference", text=" hard.")
ANSWER: list[Event] = [
    StepStartEvent(chunk=2, step="inference"),
    TextDeltaEvent(chunk=2, step="inference", text="Hi."),
    StepEndEvent(chunk=3, step="inference"),
    TurnCompleteEvent(chunk=4, text="Hi."),
    EndEvent(),
]
TURN: list[Event] = [START, THINK, HARD, *ANSWER]
"""What OGX streams for a model that reasons: the reasoning deltas, then the message."""
CALL = ToolCallEvent(chunk=2, step="tool_execution", call_id="c-1", name="f", arguments={})


def render(formatter: Formatter, events: list[Event]) -> str:
    return "".join(frame for event in events for frame in texts(formatter.format(event)))


def data(*payloads: str) -> str:
    return "".join(f"data: {payload}\n\n" for payload in payloads)


def named(*payloads: str) -> str:
    return "".join(f"event: {json.loads(p)['type']}\ndata: {p}\n\n" for p in payloads)


@pytest.fixture
def ids(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count(1)
    monkeypatch.setattr(ag_ui, "new_id", lambda: f"id-{next(counter)}")


def test_ag_ui_reasoning_is_a_reasoning_span_of_one_message_closed_before_the_step(ids) -> None:
    assert render(AgUiFormatter(thread_id="t", run_id="r"), TURN) == data(
        '{"type":"RUN_STARTED","threadId":"t","runId":"r"}',
        '{"type":"REASONING_START","messageId":"id-1"}',
        '{"type":"REASONING_MESSAGE_START","messageId":"id-1","role":"reasoning"}',
        '{"type":"REASONING_MESSAGE_CONTENT","messageId":"id-1","delta":"Think"}',
        '{"type":"REASONING_MESSAGE_CONTENT","messageId":"id-1","delta":" hard."}',
        '{"type":"REASONING_MESSAGE_END","messageId":"id-1"}',
        '{"type":"REASONING_END","messageId":"id-1"}',
        '{"type":"STEP_STARTED","stepName":"inference"}',
        '{"type":"TEXT_MESSAGE_START","messageId":"id-2","role":"assistant"}',
        '{"type":"TEXT_MESSAGE_CONTENT","messageId":"id-2","delta":"Hi."}',
        '{"type":"TEXT_MESSAGE_END","messageId":"id-2"}',
        '{"type":"STEP_FINISHED","stepName":"inference"}',
        '{"type":"RUN_FINISHED","threadId":"t","runId":"r","result":{"type":"end",'
        '"referenced_documents":[],"truncated":null,"input_tokens":0,"output_tokens":0}}',
    )


def test_ag_ui_text_then_reasoning_closes_the_text_message_first(ids) -> None:
    events: list[Event] = [START, TextDeltaEvent(text="A"), THINK, TextDeltaEvent(text="B")]
    assert render(AgUiFormatter(thread_id="t", run_id="r"), events) == data(
        '{"type":"RUN_STARTED","threadId":"t","runId":"r"}',
        '{"type":"TEXT_MESSAGE_START","messageId":"id-1","role":"assistant"}',
        '{"type":"TEXT_MESSAGE_CONTENT","messageId":"id-1","delta":"A"}',
        '{"type":"TEXT_MESSAGE_END","messageId":"id-1"}',
        '{"type":"REASONING_START","messageId":"id-2"}',
        '{"type":"REASONING_MESSAGE_START","messageId":"id-2","role":"reasoning"}',
        '{"type":"REASONING_MESSAGE_CONTENT","messageId":"id-2","delta":"Think"}',
        '{"type":"REASONING_MESSAGE_END","messageId":"id-2"}',
        '{"type":"REASONING_END","messageId":"id-2"}',
        '{"type":"TEXT_MESSAGE_START","messageId":"id-3","role":"assistant"}',
        '{"type":"TEXT_MESSAGE_CONTENT","messageId":"id-3","delta":"B"}',
    )


THINKING_START = (
    '{"type":"content_block_start","index":0,"content_block":'
    '{"type":"thinking","thinking":"","signature":""}}'
)


def thinking(index: int, text: str) -> str:
    return (
        f'{{"type":"content_block_delta","index":{index},"delta":'
        f'{{"type":"thinking_delta","thinking":"{text}"}}}}'
    )


def test_anthropic_reasoning_is_a_thinking_block_with_an_empty_signature() -> None:
    assert render(AnthropicFormatter(model="m", message_id="msg_1"), TURN) == named(
        '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",'
        '"model":"m","content":[],"stop_reason":null,"stop_sequence":null,'
        '"usage":{"input_tokens":0,"output_tokens":0},"conversation_id":"c1"}}',
        THINKING_START,
        thinking(0, "Think"),
        thinking(0, " hard."),
        '{"type":"content_block_stop","index":0}',
        '{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}',
        '{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi."}}',
        '{"type":"content_block_stop","index":1}',
        '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},'
        '"usage":{"input_tokens":0,"output_tokens":0}}',
        '{"type":"message_stop"}',
    )


def test_anthropic_thinking_closes_before_a_tool_block_and_joins_the_message() -> None:
    events = MessageEvents(message_id="msg_1", model="m")
    turn: list[Event] = [START, THINK, CALL, HARD, EndEvent()]
    payloads = [p for e in turn for p in events.payloads(e)]
    assert [(p["type"], p.get("index")) for p in payloads[1:5]] == [
        ("content_block_start", 0),
        ("content_block_delta", 0),
        ("content_block_stop", 0),
        ("content_block_start", 1),
    ]
    assembler = MessageAssembler()
    for payload in payloads:
        assembler.add(payload)
    content = assembler.message()["content"]
    assert [content[0], content[2]] == [
        {"type": "thinking", "thinking": "Think", "signature": ""},
        {"type": "thinking", "thinking": " hard.", "signature": ""},
    ]
    assert content[1]["type"] == "mcp_tool_use"


def response_event(kind: str, seq: int, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields, "sequence_number": seq}, separators=(",", ":"))


def test_responses_reasoning_is_a_reasoning_item_done_before_the_message() -> None:
    frames = render(ResponsesFormatter(model="m", stream_id="s", created_at=1), TURN)
    at = {"item_id": "rs_s_0", "output_index": 0, "content_index": 0}
    done = {
        "id": "rs_s_0",
        "type": "reasoning",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": "Think hard."}],
        "status": "completed",
    }
    added = {**done, "content": [], "status": "in_progress"}
    part = {"type": "reasoning_text", "text": ""}
    expected = named(
        response_event("response.output_item.added", 2, output_index=0, item=added),
        response_event("response.content_part.added", 3, **at, part=part),
        response_event("response.reasoning_text.delta", 4, **at, delta="Think"),
        response_event("response.reasoning_text.delta", 5, **at, delta=" hard."),
        response_event("response.reasoning_text.done", 6, **at, text="Think hard."),
        response_event("response.content_part.done", 7, **at, part={**part, "text": "Think hard."}),
        response_event("response.output_item.done", 8, output_index=0, item=done),
    )
    head, _, rest = frames.partition("event: response.output_item.added\n")
    assert head.count("\n\n") == 2  # response.created, response.in_progress
    reasoning, _, message = ("event: response.output_item.added\n" + rest).partition(
        'event: response.output_item.added\ndata: {"type":"response.output_item.added",'
        '"output_index":1'
    )
    assert reasoning == expected
    assert '"item_id":"msg_s_1","output_index":1,' in message
    completed = json.loads(message.rsplit("data: ", 1)[1])
    assert [item["id"] for item in completed["response"]["output"]] == ["rs_s_0", "msg_s_1"]
    assert completed["response"]["output"][0] == done


def test_responses_reasoning_closes_before_a_tool_call() -> None:
    frames = render(
        ResponsesFormatter(model="m", stream_id="s", created_at=1), [START, THINK, CALL]
    )
    kinds = [line.removeprefix("event: ") for line in frames.splitlines() if line.startswith("ev")]
    assert kinds[2:] == [
        "response.output_item.added",
        "response.content_part.added",
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.mcp_call.in_progress",
    ]


CHUNK = '{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,'


def test_openai_chat_reasoning_is_delta_reasoning_content() -> None:
    formatter = OpenAIFormatter(model="m", completion_id="c", created=1)
    assert render(formatter, [THINK, HARD, TextDeltaEvent(text="Hi.")]) == data(
        CHUNK + '"delta":{"reasoning_content":"Think"},"logprobs":null,"finish_reason":null}]}',
        CHUNK + '"delta":{"reasoning_content":" hard."},"logprobs":null,"finish_reason":null}]}',
        CHUNK + '"delta":{"content":"Hi."},"logprobs":null,"finish_reason":null}]}',
    )


def test_a_non_streamed_chat_completion_has_the_reasoning_as_message_reasoning_content() -> None:
    chunks = ChunkBuilder(completion_id="c", created=1, model="m", include_usage=False)
    builder = CompletionBuilder()
    for event in TURN:
        for payload in chunks.payloads(event):
            builder.add(payload)
    assert builder.completion()["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Hi.",
        "refusal": None,
        "reasoning_content": "Think hard.",
    }


def ls_frame(event: str, payload: dict[str, Any]) -> str:
    return data(json.dumps({"event": event, "data": payload}))


@pytest.mark.parametrize("formatter", [Lightspeed07Formatter, Lightspeed04Formatter])
def test_lightspeed_07_and_04_send_lightspeed_services_reasoning_frame_numbered_with_tokens(
    formatter: type[Lightspeed07Formatter],
) -> None:
    frames = render(formatter(), [THINK, HARD, TextDeltaEvent(chunk=2, text="Hi.")])
    assert frames == (
        ls_frame("reasoning", {"id": 0, "reasoning": "Think"})
        + ls_frame("reasoning", {"id": 1, "reasoning": " hard."})
        + ls_frame("token", {"id": 2, "token": "Hi."})
    )


def test_patternfly_sends_lightspeed_services_reasoning_frame() -> None:
    assert render(PatternflyFormatter(), [START, *TURN[1:3], *ANSWER[:2]]) == (
        ls_frame("start", {"conversation_id": "c1"})
        + ls_frame("reasoning", {"id": 0, "reasoning": "Think"})
        + ls_frame("reasoning", {"id": 1, "reasoning": " hard."})
        + ls_frame("token", {"id": 2, "role": "inference", "token": "Hi."})
    )


@pytest.mark.parametrize(
    "formatter",
    [Lightspeed01Formatter, Lightspeed02Formatter, Lightspeed03Formatter, PlainTextFormatter],
)
def test_the_formats_with_no_reasoning_part_leave_it_out(formatter: type[Formatter]) -> None:
    without: list[Event] = [START, *ANSWER]
    assert render(formatter(), TURN) == render(formatter(), without)


def a2a(result: dict[str, Any]) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "result": result}, separators=(",", ":"))


def test_a2a_sends_the_reasoning_whole_as_a_working_status_data_part_before_the_answer() -> None:
    ids = {"taskId": "t", "contextId": "x"}
    part = {"data": {"reasoning": "Think hard."}, "mediaType": "application/json"}
    message = {"messageId": "t-1", **ids, "role": "ROLE_AGENT", "parts": [part]}
    formatter = A2aFormatter(task_id="t", context_id="x", rpc_id=1)
    render(formatter, [START])
    answer = {"artifactId": "answer", "name": "answer", "parts": [{"text": "Hi."}]}
    more = {"artifactId": "answer", "name": "answer", "parts": [{"text": "!"}]}
    events: list[Event] = [THINK, HARD, TextDeltaEvent(text="Hi."), THINK, TextDeltaEvent(text="!")]
    second = {**message, "messageId": "t-2", "parts": [{**part, "data": {"reasoning": "Think"}}]}
    assert render(formatter, events) == data(
        a2a(
            {"statusUpdate": {**ids, "status": {"state": "TASK_STATE_WORKING", "message": message}}}
        ),
        a2a({"artifactUpdate": {**ids, "artifact": answer}}),
        a2a(
            {"statusUpdate": {**ids, "status": {"state": "TASK_STATE_WORKING", "message": second}}}
        ),
        a2a({"artifactUpdate": {**ids, "artifact": more, "append": True}}),
    )
