"""Each built-in format's tool approvals: the request, the decision, and how its clients answer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from formatters.a2a import A2aFormatter
from formatters.ag_ui import AgUiFormatter
from formatters.anthropic import AnthropicFormatter
from formatters.base import Formatter
from formatters.events import EndEvent, Event, TextDeltaEvent, TurnCompleteEvent
from formatters.openai import OpenAIFormatter
from formatters.plain_text import PlainTextFormatter
from formatters.responses import ResponsesFormatter
from service.streams.registry import load_registry
from tests.formatters.cases import (
    APPROVAL_REQUEST,
    ASKED_CALL,
    CASES,
    START,
    approval_result,
    texts,
)

REGISTRY = load_registry()
CHANNELS = {
    **dict.fromkeys(
        [f"lightspeed-0.{n}" for n in (1, 2, 3, 4, 7)] + ["patternfly", "raw"], "route"
    ),
    **dict.fromkeys(["vercel", "ag-ui", "responses", "a2a"], "request"),
    **dict.fromkeys(["openai", "anthropic"], "none"),
}
REQUIRED = (
    'data: {"event": "approval_required", "data": {"approval_id": "apr_1", "tool_name": '
    '"delete_pod", "tool_description": "", "tool_args": {"pod": "a"}, "tool_annotation": {}, '
    '"tool_call_id": "apr_1"}}\n\n'
)
REJECTED = "Tool 'delete_pod' execution was rejected. Do not retry this exact tool call."
TIMED_OUT = "Tool 'delete_pod' approval timed out. Do not retry this exact tool call."
NOT_RUN = (
    "\n\n*Tool 'delete_pod' was not run: it needs a person's approval, which this client "
    "cannot give.*\n\n"
)


def render(formatter: Formatter, events: list[Event]) -> list[str]:
    return [frame for event in events for frame in texts(formatter.format(event))]


def asked(name: str) -> Formatter:
    """A formatter that has sent the stream's start and the approval request."""
    formatter = REGISTRY.get(name)()
    render(formatter, [START, ASKED_CALL, APPROVAL_REQUEST])
    return formatter


def payloads(frames: list[str]) -> list[Any]:
    return [json.loads(frame.split("data: ", 1)[1]) for frame in frames]


def test_every_builtin_format_says_how_its_clients_answer_approvals() -> None:
    assert {name: REGISTRY.get(name).approvals for name in CHANNELS} == CHANNELS
    assert PlainTextFormatter.approvals == "none"


@pytest.mark.parametrize("name", ["lightspeed-0.1", "lightspeed-0.2"])
def test_lightspeed_01_and_02_send_lightspeed_service_s_approval_required(name: str) -> None:
    formatter = REGISTRY.get(name)()
    assert render(formatter, [ASKED_CALL, APPROVAL_REQUEST]) == [
        'data: {"event": "tool_call", "data": {"id": 0, "role": "inference", "token": '
        '"delete_pod"}}\n\n',
        REQUIRED,
    ]


def test_lightspeed_03_sends_approval_required_after_its_token_frame() -> None:
    formatter = REGISTRY.get("lightspeed-0.3")()
    assert render(formatter, [ASKED_CALL, APPROVAL_REQUEST]) == [
        'data: {"event": "tool_call", "data": {"id": 0, "token": "delete_pod"}}\n\n',
        REQUIRED,
    ]


@pytest.mark.parametrize("name", ["lightspeed-0.4", "lightspeed-0.7"])
def test_lightspeed_07_shares_the_call_id_with_an_mcp_tool_call_frame(name: str) -> None:
    formatter = REGISTRY.get(name)()
    assert render(formatter, [ASKED_CALL, APPROVAL_REQUEST]) == [
        'data: {"event": "tool_call", "data": {"id": "apr_1", "name": "delete_pod", "args": '
        '{"pod": "a"}, "type": "mcp_call"}}\n\n',
        REQUIRED,
    ]


def test_a_call_asked_without_approval_stays_a_function_call_in_lightspeed_07() -> None:
    formatter = REGISTRY.get("lightspeed-0.7")()
    assert render(formatter, [ASKED_CALL, EndEvent()])[0] == (
        'data: {"event": "tool_call", "data": {"id": "apr_1", "name": "delete_pod", "args": '
        '{"pod": "a"}, "type": "function_call"}}\n\n'
    )


@pytest.mark.parametrize(
    ("name", "decision", "frame"),
    [
        (
            "lightspeed-0.1",
            "denied",
            '{"event": "tool_call", "data": {"id": 2, "role": "tool_execution", "token": '
            f'"Tool:delete_pod response:{REJECTED} Reason: not now"}}}}',
        ),
        (
            "lightspeed-0.2",
            "expired",
            '{"event": "tool_call", "data": {"id": 2, "role": "tool_execution", "token": '
            f'{{"tool_name": "delete_pod", "response": "{TIMED_OUT}"}}}}}}',
        ),
        (
            "lightspeed-0.3",
            "denied",
            '{"event": "tool_result", "data": {"id": 2, "token": {"tool_name": "delete_pod", '
            f'"response": "{REJECTED} Reason: not now"}}}}}}',
        ),
        (
            "lightspeed-0.7",
            "expired",
            '{"event": "tool_result", "data": {"id": "apr_1", "status": "failure", "content": '
            f'"{TIMED_OUT}", "type": "mcp_call", "round": 1}}}}',
        ),
        (
            "lightspeed-0.4",
            "denied",
            '{"event": "tool_result", "data": {"id": "apr_1", "status": "failure", "content": '
            f'"{REJECTED} Reason: not now", "type": "mcp_call", "round": 1}}}}',
        ),
    ],
)
def test_lightspeed_dialects_show_a_refusal_as_lightspeed_service_s_failed_result(
    name: str, decision: str, frame: str
) -> None:
    reason = "not now" if decision == "denied" else None
    assert render(asked(name), [approval_result(decision, reason)]) == [f"data: {frame}\n\n"]


@pytest.mark.parametrize("name", [f"lightspeed-0.{n}" for n in (1, 2, 3, 4, 7)])
def test_lightspeed_dialects_send_nothing_for_an_approval_the_tool_result_follows(
    name: str,
) -> None:
    assert render(asked(name), [approval_result("approved")]) == []


def test_patternfly_sends_the_decision_and_closes_a_refused_tool_card() -> None:
    formatter = REGISTRY.get("patternfly")()
    assert render(formatter, [ASKED_CALL, APPROVAL_REQUEST]) == [
        'data: {"event": "tool_call", "data": {"id": 0, "role": "tool_execution", "token": '
        '{"tool_name": "delete_pod", "call_id": "apr_1", "arguments": {"pod": "a"}}}}\n\n',
        REQUIRED,
    ]
    assert render(formatter, [approval_result("expired")]) == [
        'data: {"event": "approval_result", "data": {"approval_id": "apr_1", "tool_call_id": '
        '"apr_1", "tool_name": "delete_pod", "decision": "expired", "reason": null}}\n\n',
        'data: {"event": "tool_call", "data": {"id": 2, "role": "tool_execution", "token": '
        '{"tool_name": "delete_pod", "call_id": "apr_1", "status": "failure", "response": '
        f'"{TIMED_OUT}"}}}}}}\n\n',
    ]
    assert render(asked("patternfly"), [approval_result("approved")]) == [
        'data: {"event": "approval_result", "data": {"approval_id": "apr_1", "tool_call_id": '
        '"apr_1", "tool_name": "delete_pod", "decision": "approved", "reason": null}}\n\n',
    ]


def test_raw_sends_both_approval_events_as_json() -> None:
    formatter = REGISTRY.get("raw")()
    assert render(formatter, [APPROVAL_REQUEST, approval_result("denied", "no")]) == [
        'event: approval_request\nid: 0\ndata: {"type":"approval_request","chunk":0,'
        '"step":"inference","approval_id":"apr_1","call_id":"apr_1","name":"delete_pod",'
        '"arguments":{"pod":"a"},"server_label":"k8s","description":null}\n\n',
        'event: approval_result\nid: 1\ndata: {"type":"approval_result","chunk":null,'
        '"step":null,"approval_id":"apr_1","call_id":"apr_1","name":"delete_pod",'
        '"decision":"denied","reason":"no"}\n\n',
    ]


def test_vercel_asks_with_a_tool_approval_request_part_and_finishes_the_message() -> None:
    formatter = REGISTRY.get("vercel")()
    assert render(formatter, CASES["approval_asked"][1:]) == [
        'data: {"type":"start-step"}\n\n',
        'data: {"type":"tool-input-start","toolCallId":"apr_1","toolName":"delete_pod",'
        '"providerExecuted":true,"dynamic":true}\n\n',
        'data: {"type":"tool-input-delta","toolCallId":"apr_1","inputTextDelta":'
        '"{\\"pod\\":\\"a\\"}"}\n\n',
        'data: {"type":"tool-input-available","toolCallId":"apr_1","toolName":"delete_pod",'
        '"input":{"pod":"a"},"providerExecuted":true,"dynamic":true}\n\n',
        'data: {"type":"tool-approval-request","approvalId":"apr_1","toolCallId":"apr_1"}\n\n',
        'data: {"type":"finish-step"}\n\n',
        'data: {"type":"finish","finishReason":"tool-calls"}\n\n',
        "data: [DONE]\n\n",
    ]


@pytest.mark.parametrize("decision", ["denied", "expired"])
def test_vercel_shows_a_refusal_as_tool_output_denied(decision: str) -> None:
    formatter = REGISTRY.get("vercel")()
    assert render(formatter, [approval_result(decision)]) == [
        'data: {"type":"tool-output-denied","toolCallId":"apr_1"}\n\n'
    ]
    assert render(REGISTRY.get("vercel")(), [approval_result("approved")]) == []


def test_ag_ui_ends_the_run_with_an_interrupt_outcome() -> None:
    formatter = AgUiFormatter(thread_id="t1", run_id="r1")
    assert payloads(render(formatter, CASES["approval_asked"][1:])) == [
        {"type": "TOOL_CALL_START", "toolCallId": "apr_1", "toolCallName": "delete_pod"},
        {"type": "TOOL_CALL_ARGS", "toolCallId": "apr_1", "delta": '{"pod":"a"}'},
        {"type": "TOOL_CALL_END", "toolCallId": "apr_1"},
        {
            "type": "RUN_FINISHED",
            "threadId": "t1",
            "runId": "r1",
            "result": {
                "type": "end",
                "referenced_documents": [],
                "truncated": None,
                "input_tokens": 0,
                "output_tokens": 0,
            },
            "outcome": {
                "type": "interrupt",
                "interrupts": [
                    {
                        "id": "apr_1",
                        "reason": "tool_approval",
                        "message": "Approve running the tool delete_pod?",
                        "toolCallId": "apr_1",
                        "responseSchema": {
                            "type": "object",
                            "properties": {
                                "approved": {"type": "boolean"},
                                "reason": {"type": "string"},
                            },
                            "required": ["approved"],
                        },
                        "metadata": {
                            "toolName": "delete_pod",
                            "arguments": {"pod": "a"},
                            "serverLabel": "k8s",
                        },
                    }
                ],
            },
        },
    ]


def test_ag_ui_shows_a_refusal_as_the_call_s_result() -> None:
    (result,) = payloads(render(AgUiFormatter(), [approval_result("denied", "not now")]))
    del result["messageId"]  # a fresh uuid4
    assert result == {
        "type": "TOOL_CALL_RESULT",
        "toolCallId": "apr_1",
        "content": f"{REJECTED} Reason: not now",
        "role": "tool",
    }


def test_responses_sends_an_mcp_approval_request_item_and_completes() -> None:
    formatter = ResponsesFormatter(stream_id="s1", created_at=1)
    frames = render(formatter, CASES["approval_asked"])
    item = {
        "id": "apr_1",
        "type": "mcp_approval_request",
        "server_label": "k8s",
        "name": "delete_pod",
        "arguments": '{"pod":"a"}',
    }
    assert frames[2:4] == [
        "event: response.output_item.added\ndata: "
        '{"type":"response.output_item.added","output_index":0,"item":{"id":"apr_1",'
        '"type":"mcp_approval_request","server_label":"k8s","name":"delete_pod","arguments":'
        '"{\\"pod\\":\\"a\\"}"},"sequence_number":2}\n\n',
        "event: response.output_item.done\ndata: "
        '{"type":"response.output_item.done","output_index":0,"item":{"id":"apr_1",'
        '"type":"mcp_approval_request","server_label":"k8s","name":"delete_pod","arguments":'
        '"{\\"pod\\":\\"a\\"}"},"sequence_number":3}\n\n',
    ]
    (completed,) = payloads(frames[4:])
    assert completed["type"] == "response.completed"
    assert completed["sequence_number"] == 4
    assert completed["response"]["status"] == "completed"
    assert completed["response"]["incomplete_details"] is None
    assert completed["response"]["output"] == [item]
    assert len(frames) == 5


def test_responses_still_sends_a_call_that_asks_no_approval() -> None:
    formatter = ResponsesFormatter(stream_id="s1", created_at=1)
    frames = payloads(
        render(formatter, [START, ASKED_CALL, TurnCompleteEvent(text=""), EndEvent()])
    )
    assert [frame["type"] for frame in frames] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.mcp_call.in_progress",
        "response.output_item.done",
        "response.completed",
    ]
    assert frames[2]["item"]["id"] == "apr_1"


def test_responses_shows_a_refusal_as_a_failed_mcp_call() -> None:
    formatter = ResponsesFormatter(stream_id="s1", created_at=1)
    frames = render(formatter, [approval_result("denied"), EndEvent()])
    assert [frame["item"] for frame in payloads(frames) if "item" in frame][-1] == {
        "id": "apr_1",
        "type": "mcp_call",
        "status": "failed",
        "server_label": "agent",
        "name": "delete_pod",
        "arguments": "{}",
        "output": None,
        "error": REJECTED,
    }


def test_a2a_ends_the_stream_with_an_input_required_task() -> None:
    formatter = A2aFormatter(task_id="task1", context_id="ctx1", rpc_id=1)
    assert render(formatter, CASES["approval_asked"][1:]) == [
        'data: {"jsonrpc":"2.0","id":1,"result":{"statusUpdate":{"taskId":"task1",'
        '"contextId":"ctx1","status":{"state":"TASK_STATE_WORKING","message":{"messageId":'
        '"task1-1","taskId":"task1","contextId":"ctx1","role":"ROLE_AGENT","parts":[{"data":'
        '{"toolCall":{"id":"apr_1","name":"delete_pod","arguments":{"pod":"a"}}},"mediaType":'
        '"application/json"}]}}}}}\n\n',
        'data: {"jsonrpc":"2.0","id":1,"result":{"statusUpdate":{"taskId":"task1",'
        '"contextId":"ctx1","status":{"state":"TASK_STATE_INPUT_REQUIRED","message":'
        '{"messageId":"task1-2","taskId":"task1","contextId":"ctx1","role":"ROLE_AGENT",'
        '"parts":[{"text":"Approve or deny running delete_pod: reply to this task with a data '
        'part each."},{"data":{"approvalRequest":{"approval_id":"apr_1","tool_call_id":"apr_1",'
        '"name":"delete_pod","arguments":{"pod":"a"},"server_label":"k8s"}},"mediaType":'
        '"application/json"}]}},"metadata":{"usage":{"inputTokens":0,"outputTokens":0},'
        '"referencedDocuments":[]}}}}\n\n',
    ]
    assert formatter.events.ended


def test_a2a_shows_a_refusal_as_a_failed_tool_result() -> None:
    formatter = A2aFormatter(task_id="task1", context_id="ctx1", rpc_id=1)
    (frame,) = payloads(render(formatter, [approval_result("expired")]))
    message = frame["result"]["statusUpdate"]["status"]["message"]
    assert message["parts"] == [
        {
            "data": {
                "toolResult": {
                    "id": "apr_1",
                    "name": "delete_pod",
                    "content": TIMED_OUT,
                    "failed": True,
                }
            },
            "mediaType": "application/json",
        }
    ]


def test_openai_chat_says_in_the_answer_that_the_tool_did_not_run() -> None:
    formatter = OpenAIFormatter(completion_id="chatcmpl-1", created=1)
    frames = payloads(render(formatter, CASES["approval_unanswerable"][1:])[:-1])
    assert [frame["choices"][0]["delta"] for frame in frames] == [
        {},
        {},
        {"content": NOT_RUN},
        {"content": "The pod stays."},
        {},
    ]
    assert frames[1]["gateway_event"]["type"] == "approval_request"
    assert frames[2]["gateway_event"] == {
        "type": "approval_result",
        "chunk": None,
        "step": None,
        "approval_id": "apr_1",
        "call_id": "apr_1",
        "name": "delete_pod",
        "decision": "unanswerable",
        "reason": None,
    }


def test_anthropic_says_in_a_text_block_that_the_tool_did_not_run() -> None:
    formatter = AnthropicFormatter(message_id="msg_1")
    frames = render(formatter, CASES["approval_unanswerable"])
    assert frames[4:7] == [
        "event: content_block_start\ndata: "
        '{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}\n\n',
        "event: content_block_delta\ndata: "
        '{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":'
        f"{json.dumps(NOT_RUN)}}}}}\n\n",
        "event: content_block_delta\ndata: "
        '{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":'
        '"The pod stays."}}\n\n',
    ]


def test_anthropic_s_note_does_not_stand_for_the_answer() -> None:
    formatter = AnthropicFormatter(message_id="msg_1")
    frames = render(formatter, [approval_result("unanswerable"), TurnCompleteEvent(text="Kept.")])
    assert '"text":"Kept."' in frames[-1]


def test_the_gateway_s_reason_for_an_unanswerable_approval_is_what_the_answer_says() -> None:
    reason = "This client cannot approve tool calls, so delete_pod was not run."
    assert render(PlainTextFormatter(), [approval_result("unanswerable", reason)]) == [
        f"\n\n*{reason}*\n\n"
    ]
    expired = approval_result("expired", "No decision came within 300 s.")
    assert render(asked("lightspeed-0.7"), [expired])[0].count(TIMED_OUT + '"') == 1


def test_plain_text_says_the_tool_did_not_run() -> None:
    formatter = PlainTextFormatter()
    assert render(formatter, CASES["approval_unanswerable"]) == [
        "[Tool Call: delete_pod]\n",
        NOT_RUN,
        "The pod stays.",
    ]


def test_the_none_formats_say_nothing_of_an_approved_call() -> None:
    approved = approval_result("approved")
    assert render(PlainTextFormatter(), [approved]) == []
    assert render(AnthropicFormatter(), [approved, TextDeltaEvent(text="x")])[0].startswith(
        "event: message_start"
    )
