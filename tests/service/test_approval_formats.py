"""An upstream approval request through the service, in each "request" format; bad decisions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from a2a.types import StreamResponse, Task
from ag_ui.core import RunAgentInput
from aiohttp.test_utils import TestClient, TestServer
from google.protobuf import json_format

from fakes.responses_upstream import FakeResponsesUpstream, sse
from formatters.responses import response_id
from service.http.ag_ui_run import to_turn
from service.http.models.a2a import Part, approval_decisions
from service.http.models.chat import UnsupportedRequest
from service.upstream.turn import ApprovalDecision, TurnRequest
from tests.conftest import MakeClient, split_frames

APPROVAL_ITEM = {
    "type": "mcp_approval_request",
    "id": "approval_1",
    "name": "delete_pod",
    "arguments": '{"pod": "a"}',
    "server_label": "k8s",
}
ASKING = [
    sse({"type": "response.created", "response": {"id": "r1", "output": []}}),
    sse({"type": "response.output_item.added", "output_index": 0, "item": APPROVAL_ITEM}),
    sse({"type": "response.output_item.done", "output_index": 0, "item": APPROVAL_ITEM}),
    sse({"type": "response.completed", "response": {"id": "r1", "output": [APPROVAL_ITEM]}}),
]
"""An upstream response that stops at an MCP tool call needing approval (OGX's shape)."""
A2A_APPROVAL_REQUEST = {
    "approvalRequest": {
        "approval_id": "approval_1",
        "tool_call_id": "approval_1",
        "name": "delete_pod",
        "arguments": {"pod": "a"},
        "server_label": "k8s",
    }
}
"""The data part of the input-required status that asks for the approval (a2a)."""
APPROVAL = {
    "type": "mcp_approval_response",
    "approval_request_id": "approval_1",
    "approve": True,
}


@pytest.fixture
def fake_responses() -> FakeResponsesUpstream:
    return FakeResponsesUpstream(steps=list(ASKING))


@pytest.fixture
async def client(make_client: MakeClient, responses_server: TestServer) -> TestClient[Any, Any]:
    return await make_client(
        llama_stack_base_url=str(responses_server.make_url("/")), llama_stack_api="responses"
    )


def data(frames: list[str]) -> list[Any]:
    return [
        json.loads(line[6:])
        for frame in frames
        for line in frame.splitlines()
        if line.startswith("data: {")
    ]


async def test_responses_streams_the_mcp_approval_request_item_and_completes(client) -> None:
    response = await client.post(
        "/v1/responses", json={"model": "m", "input": "Delete pod a.", "stream": True}
    )
    assert response.status == 200
    events = data(split_frames(await response.read()))
    item = {
        "id": "approval_1",
        "type": "mcp_approval_request",
        "server_label": "k8s",
        "name": "delete_pod",
        "arguments": '{"pod":"a"}',
    }
    assert [(e["type"], e.get("item")) for e in events[2:]] == [
        ("response.output_item.added", item),
        ("response.output_item.done", item),
        ("response.completed", None),
    ]
    assert events[-1]["response"]["status"] == "completed"
    assert events[-1]["response"]["output"] == [item]


async def test_vercel_streams_the_tool_approval_request_part(client) -> None:
    response = await client.post("/v1/streaming_query?format=vercel", json={"query": "Delete."})
    parts = data(split_frames(await response.read()))
    assert parts[-3:] == [
        {"type": "tool-approval-request", "approvalId": "approval_1", "toolCallId": "approval_1"},
        {"type": "finish-step"},
        {"type": "finish", "finishReason": "tool-calls"},
    ]


async def test_ag_ui_ends_the_run_with_the_approval_interrupt(client) -> None:
    run = {"threadId": "t-1", "runId": "r-1", "messages": [
        {"id": "u1", "role": "user", "content": "Delete pod a."}]}  # fmt: skip
    response = await client.post("/v1/ag-ui", json=run)
    finished = data(split_frames(await response.read()))[-1]
    assert finished["type"] == "RUN_FINISHED"
    assert finished["outcome"]["type"] == "interrupt"
    (interrupt,) = finished["outcome"]["interrupts"]
    assert (interrupt["id"], interrupt["toolCallId"]) == ("approval_1", "approval_1")


async def test_a2a_ends_the_stream_with_an_input_required_task(client) -> None:
    message = {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "Delete pod a."}]}
    rpc = {"jsonrpc": "2.0", "id": 7, "method": "SendStreamingMessage",
           "params": {"message": message}}  # fmt: skip
    response = await client.post("/a2a", json=rpc)
    results = [answer["result"] for answer in data(split_frames(await response.read()))]
    for result in results:
        json_format.ParseDict(result, StreamResponse())  # strict: no unknown field
    last = results[-1]["statusUpdate"]
    assert last["status"]["state"] == "TASK_STATE_INPUT_REQUIRED"
    assert last["status"]["message"]["parts"][1] == {
        "data": A2A_APPROVAL_REQUEST,
        "mediaType": "application/json",
    }


async def test_an_approval_response_without_its_response_is_a_400_in_openai_s_shape(
    client,
) -> None:
    response = await client.post("/v1/responses", json={"model": "m", "input": [APPROVAL]})
    assert response.status == 400
    assert await response.json() == {
        "error": {
            "message": "Unsupported request: input: an mcp_approval_response answers an earlier "
            "response: send its previous_response_id or its conversation",
            "type": "invalid_request_error",
            "param": None,
            "code": "unsupported_request",
        }
    }
    bad = {**APPROVAL, "approve": "yes"}
    previous = response_id("s" * 22, "conv_" + "0" * 48)
    body = {"model": "m", "previous_response_id": previous, "input": [bad]}
    refused = await client.post("/v1/responses", json=body)
    assert (refused.status, (await refused.json())["error"]["message"]) == (
        400,
        "Unsupported request: input[0]: approve: Input should be a valid boolean",
    )


async def test_an_ag_ui_resume_of_a_thread_with_no_run_is_a_422(client) -> None:
    resume = [{"interruptId": "approval_1", "status": "resolved", "payload": {"approved": True}}]
    run = {"threadId": "t-new", "runId": "r-2", "messages": [], "resume": resume}
    response = await client.post("/v1/ag-ui", json=run)
    assert response.status == 422
    assert (await response.json())["detail"]["cause"] == (
        "resume: this thread has no interrupted run to resume"
    )


def test_an_ag_ui_resume_answers_each_interrupt_in_the_thread_s_conversation() -> None:
    body = RunAgentInput.model_validate(
        {
            "threadId": "t-1",
            "runId": "r-2",
            "messages": [],
            "resume": [
                {"interruptId": "a1", "status": "resolved", "payload": {"approved": True}},
                {
                    "interruptId": "a2",
                    "status": "resolved",
                    "payload": {"approved": False, "reason": "not that pod"},
                },
                {"interruptId": "a3", "status": "cancelled"},
            ],
        }
    )
    assert to_turn(body, "conv-1") == TurnRequest(
        query="",
        conversation_id="conv-1",
        approval_decisions=(
            ApprovalDecision("a1", True),
            ApprovalDecision("a2", False, "not that pod"),
            ApprovalDecision("a3", False, "cancelled"),
        ),
    )


@pytest.mark.parametrize(
    ("payload", "cause"),
    [
        (None, 'resume[0].payload: answer an approval with {"approved": true|false}'),
        (
            {"approved": "yes"},
            'resume[0].payload: answer an approval with {"approved": true|false}',
        ),
        ({"approved": True, "reason": 3}, "resume[0].payload.reason: must be text"),
    ],
)
def test_a_bad_ag_ui_resume_payload_is_refused(payload: Any, cause: str) -> None:
    entry = {"interruptId": "a1", "status": "resolved", "payload": payload}
    body = RunAgentInput.model_validate(
        {"threadId": "t", "runId": "r", "messages": [], "resume": [entry]}
    )
    with pytest.raises(UnsupportedRequest) as refused:
        to_turn(body, "conv-1")
    assert refused.value.cause == cause


def test_an_a2a_reply_s_data_parts_are_its_decisions() -> None:
    parts = [
        Part(text="Go ahead with the first."),
        Part(data={"approval_id": "a1", "approved": True}),
        Part(data={"approval_id": "a2", "approved": False, "reason": "no"}),
    ]
    assert approval_decisions(parts) == [
        ApprovalDecision("a1", True),
        ApprovalDecision("a2", False, "no"),
    ]
    with pytest.raises(ValueError, match=r"^message.parts\[0\].data: approved: Field required; "):
        approval_decisions([Part(data={"approval_id": "a1"})])


def rpc(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 9,
        "method": "SendStreamingMessage",
        "params": {"message": message},
    }


REPLY = {"messageId": "m2", "role": "ROLE_USER", "taskId": "task-1"}


async def test_a_bad_a2a_reply_is_a_json_rpc_invalid_params_error(client) -> None:
    bad = {**REPLY, "parts": [{"data": {"approval_id": "a1", "approved": "yes"}}]}
    answer = await (await client.post("/a2a", json=rpc(bad))).json()
    assert answer["error"]["code"] == -32602
    assert answer["error"]["message"] == (
        "message.parts[0].data: approved: Input should be a valid boolean; reply to an "
        'input-required task with a data part {"approval_id": ..., "approved": true|false, '
        '"reason": ...} for each approvalRequest it asked'
    )
    no_context = {**REPLY, "parts": [{"data": {"approval_id": "a1", "approved": True}}]}
    answer = await (await client.post("/a2a", json=rpc(no_context))).json()
    assert (answer["error"]["code"], answer["error"]["message"]) == (
        -32602,
        "message.contextId: name the task's context to answer it",
    )
    unknown = {**no_context, "contextId": "ctx-nobody-knows"}
    answer = await (await client.post("/a2a", json=rpc(unknown))).json()
    assert (answer["error"]["code"], answer["error"]["message"]) == (
        -32001,
        "No task has the id 'task-1': unknown, expired or not yours",
    )


async def test_an_a2a_reply_to_an_unknown_kept_task_is_task_not_found(
    make_client: MakeClient, responses_server: TestServer
) -> None:
    client = await make_client(
        llama_stack_base_url=str(responses_server.make_url("/")),
        llama_stack_api="responses",
        resume_window=30,
    )
    reply = {**REPLY, "parts": [{"data": {"approval_id": "a1", "approved": True}}]}
    answer = await (await client.post("/a2a", json=rpc(reply))).json()
    assert answer["error"]["code"] == -32001


async def test_a_whole_response_and_a_whole_a2a_task_wait_for_the_approval_too(client) -> None:
    response = await client.post("/v1/responses", json={"model": "m", "input": "Delete pod a."})
    answer = await response.json()
    assert (answer["status"], [item["type"] for item in answer["output"]]) == (
        "completed",
        ["mcp_approval_request"],
    )
    message = {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "Delete pod a."}]}
    rpc = {"jsonrpc": "2.0", "id": 7, "method": "SendMessage", "params": {"message": message}}
    task = (await (await client.post("/a2a", json=rpc)).json())["result"]["task"]
    json_format.ParseDict(task, Task())
    assert task["status"]["state"] == "TASK_STATE_INPUT_REQUIRED"
    assert task["status"]["message"]["parts"][1]["data"] == A2A_APPROVAL_REQUEST
