"""A turn that asked a tool approval goes on with each protocol's decision, through the service.

The fake Responses upstream asks approval for one MCP call (`approval_request_turn`), then
answers a continuation as OGX does (`ApprovalScript`: the approved call runs, a denied one does
not); each format's next request, or `POST /v1/tool-approvals`, decides it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from fakes.responses_upstream import ApprovalScript, FakeResponsesUpstream, approval_request_turn
from tests.conftest import MakeClient, split_frames

ITEM = {
    "type": "mcp_approval_request",
    "id": "approval_1",
    "name": "delete_pod",
    "arguments": '{"pod": "a"}',
    "server_label": "k8s",
}
DECIDED = "This approval request was decided already."
CLOSED = {
    "error": {
        "message": f"Approval request closed: {DECIDED}",
        "type": "invalid_request_error",
        "param": None,
        "code": "approval_request_closed",
    }
}
RAN = "delete_pod said done."
REJECTED = "Tool 'delete_pod' execution was rejected. Do not retry this exact tool call."
NOT_RUN = "delete_pod was not run."


@pytest.fixture
def script() -> ApprovalScript:
    return ApprovalScript(asked={"approval_1": ITEM})


@pytest.fixture
def fake_responses(script: ApprovalScript) -> FakeResponsesUpstream:
    return FakeResponsesUpstream(turns=[approval_request_turn(ITEM)], script=script)


@pytest.fixture
async def client(make_client: MakeClient, responses_server: TestServer) -> TestClient[Any, Any]:
    return await make_client(
        llama_stack_base_url=str(responses_server.make_url("/")),
        llama_stack_api="responses",
        heartbeat_interval=0.5,
    )


def data(body: bytes) -> list[Any]:
    return [
        json.loads(line[6:])
        for frame in split_frames(body)
        for line in frame.splitlines()
        if line.startswith("data: {")
    ]


async def post_events(client: TestClient[Any, Any], path: str, body: Any) -> list[Any]:
    response = await client.post(path, json=body)
    assert response.status == 200, await response.text()
    return data(await response.read())


@pytest.mark.parametrize(("approve", "answer"), [(True, RAN), (False, NOT_RUN)])
async def test_an_mcp_approval_response_continues_the_previous_response(
    client, fake_responses, script, approve: bool, answer: str
) -> None:
    first = await client.post("/v1/responses", json={"model": "m", "input": "Delete a."})
    response_id = (await first.json())["id"]
    decision = {"type": "mcp_approval_response", "approval_request_id": "approval_1"}
    body = {
        "model": "m",
        "stream": True,
        "previous_response_id": response_id,
        "input": [{**decision, "approve": approve}],
    }
    events = await post_events(client, "/v1/responses", body)
    final = events[-1]["response"]
    assert (events[-1]["type"], final["previous_response_id"]) == (
        "response.completed",
        response_id,
    )
    assert final["output"][-1]["content"][0]["text"] == answer
    ran = [item for item in final["output"] if item["type"] == "mcp_call"]
    assert [(item["status"], item["output"], item["error"]) for item in ran] == (
        [("completed", "done", None)] if approve else [("failed", None, REJECTED)]
    )
    assert script.mismatches == []
    assert fake_responses.requests[-1]["input"] == [ITEM, {**decision, "approve": approve}]
    again = await client.post("/v1/responses", json=body)
    assert (again.status, await again.json()) == (409, CLOSED)


async def test_an_ag_ui_resume_continues_the_thread_s_run(client, script) -> None:
    run = {"threadId": "t-1", "runId": "r-1", "messages": [
        {"id": "u1", "role": "user", "content": "Delete pod a."}]}  # fmt: skip
    first = await post_events(client, "/v1/ag-ui", run)
    (interrupt,) = first[-1]["outcome"]["interrupts"]
    payload = {"approved": True, "reason": "a test pod"}
    resume = [{"interruptId": interrupt["id"], "status": "resolved", "payload": payload}]
    events = await post_events(client, "/v1/ag-ui", {**run, "runId": "r-2", "resume": resume})
    assert [e["type"] for e in events] == [
        "RUN_STARTED",
        "TOOL_CALL_START",
        "TOOL_CALL_ARGS",
        "TOOL_CALL_END",
        "STEP_STARTED",
        "TOOL_CALL_RESULT",
        "STEP_FINISHED",
        "STEP_STARTED",
        "TEXT_MESSAGE_START",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END",
        "STEP_FINISHED",
        "RUN_FINISHED",
    ]
    assert "outcome" not in events[-1]
    assert events[5]["content"] == "done"
    assert "".join(e["delta"] for e in events if e["type"] == "TEXT_MESSAGE_CONTENT") == RAN
    assert script.mismatches == []
    again = await client.post("/v1/ag-ui", json={**run, "runId": "r-3", "resume": resume})
    assert (again.status, await again.json()) == (
        409,
        {"detail": {"response": "Approval request closed", "cause": DECIDED}},
    )


@pytest.mark.parametrize("resume_window", [0.0, 30.0], ids=["by context", "kept task"])
async def test_an_a2a_reply_to_the_input_required_task_continues_it(
    make_client: MakeClient, responses_server: TestServer, script, resume_window: float
) -> None:
    client = await make_client(
        llama_stack_base_url=str(responses_server.make_url("/")),
        llama_stack_api="responses",
        resume_window=resume_window,
    )
    message = {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "Delete pod a."}]}
    rpc = {"jsonrpc": "2.0", "id": 7, "method": "SendStreamingMessage"}
    first = await post_events(client, "/a2a", {**rpc, "params": {"message": message}})
    asked = first[-1]["result"]["statusUpdate"]
    assert asked["status"]["state"] == "TASK_STATE_INPUT_REQUIRED"
    reply = {
        "messageId": "m2",
        "role": "ROLE_USER",
        "taskId": asked["taskId"],
        "contextId": asked["contextId"],
        "parts": [{"data": {"approval_id": "approval_1", "approved": False, "reason": "no"}}],
    }
    events = await post_events(client, "/a2a", {**rpc, "params": {"message": reply}})
    results = [event["result"] for event in events]
    task_ids = [result["task"]["id"] for result in results if "task" in result] + [
        update["taskId"]
        for result in results
        for update in (result.get("statusUpdate"), result.get("artifactUpdate"))
        if update is not None
    ]
    assert set(task_ids) == {asked["taskId"]}  # the same task goes on
    assert results[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
    answer = "".join(
        r["artifactUpdate"]["artifact"]["parts"][0]["text"]
        for r in results
        if "artifactUpdate" in r
    )
    assert answer == NOT_RUN
    assert script.mismatches == []
    again = await client.post("/a2a", json={**rpc, "params": {"message": reply}})
    assert (again.status, await again.json()) == (
        200,
        {
            "jsonrpc": "2.0",
            "id": 7,
            "error": {
                "code": -32004,
                "message": f"Approval request closed: {DECIDED}",
                "data": [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "UNSUPPORTED_OPERATION",
                        "domain": "a2a-protocol.org",
                        "metadata": {"status": "409"},
                    }
                ],
            },
        },
    )


async def test_vercel_s_next_request_carries_the_decision_as_tool_approvals(client) -> None:
    first = await post_events(client, "/v1/streaming_query?format=vercel", {"query": "Delete."})
    conversation = first[0]["messageMetadata"]["conversation_id"]
    body = {
        "conversation_id": conversation,
        "tool_approvals": [{"approval_id": "approval_1", "approved": True}],
    }
    parts = await post_events(client, "/v1/streaming_query?format=vercel", body)
    call = {"toolCallId": "mcp_approval_1", "toolName": "delete_pod"}
    agent = {"providerExecuted": True, "dynamic": True}
    assert parts[1:] == [
        {"type": "start-step"},
        {"type": "tool-input-start", **call, **agent},
        {
            "type": "tool-input-delta",
            "toolCallId": "mcp_approval_1",
            "inputTextDelta": '{"pod":"a"}',
        },
        {"type": "tool-input-available", **call, "input": {"pod": "a"}, **agent},
        {
            "type": "tool-output-available",
            "toolCallId": "mcp_approval_1",
            "output": "done",
            **agent,
        },
        {"type": "finish-step"},
        {"type": "start-step"},
        {"type": "text-start", "id": "text-1"},
        {"type": "text-delta", "id": "text-1", "delta": "delete_pod "},
        {"type": "text-delta", "id": "text-1", "delta": "said "},
        {"type": "text-delta", "id": "text-1", "delta": "done."},
        {"type": "text-end", "id": "text-1"},
        {"type": "finish-step"},
        {"type": "finish", "finishReason": "stop"},
    ]
    assert parts[0]["messageMetadata"] == {"conversation_id": conversation}


async def test_lightspeed_07_waits_in_the_stream_for_the_decision_route(client) -> None:
    response = await client.post(
        "/v1/streaming_query?format=lightspeed-0.7", json={"query": "Delete."}
    )
    assert response.status == 200
    frames: list[Any] = []
    while not any(frame["event"] == "approval_required" for frame in frames):
        line = await asyncio.wait_for(response.content.readline(), 10)
        assert line, f"the stream ended without asking: {frames}"
        if line.startswith(b"data: "):
            frames.append(json.loads(line[6:]))
    decided = await client.post(
        "/v1/tool-approvals", json={"approval_id": "approval_1", "approved": True}
    )
    assert (decided.status, await decided.json()) == (
        200,
        {"approval_id": "approval_1", "decision": "approved"},
    )
    rest = data(await response.read())
    call = {"name": "delete_pod", "args": {"pod": "a"}, "type": "mcp_call"}
    assert [frame for frame in frames + rest if frame["event"] not in ("start", "end")] == [
        {"event": "tool_call", "data": {"id": "approval_1", **call}},
        {
            "event": "approval_required",
            "data": {
                "approval_id": "approval_1",
                "tool_name": "delete_pod",
                "tool_description": "",
                "tool_args": {"pod": "a"},
                "tool_annotation": {},
                "tool_call_id": "approval_1",
            },
        },
        {"event": "tool_call", "data": {"id": "mcp_approval_1", **call}},
        {
            "event": "tool_result",
            "data": {
                "id": "mcp_approval_1",
                "status": "success",
                "content": "done",
                "type": "mcp_call",
                "round": 1,
            },
        },
        {"event": "token", "data": {"id": 0, "token": "delete_pod "}},
        {"event": "token", "data": {"id": 1, "token": "said "}},
        {"event": "token", "data": {"id": 2, "token": "done."}},
        {"event": "turn_complete", "data": {"id": 3, "token": RAN}},
    ]


async def test_openai_chat_says_the_tool_did_not_run_and_the_turn_goes_on(client, script) -> None:
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "Delete."}]}
    chunks = await post_events(client, "/v1/chat/completions", body)
    content = "".join(
        choice["delta"].get("content") or "" for chunk in chunks for choice in chunk["choices"]
    )
    reason = "This client cannot approve tool calls, so delete_pod was not run."
    assert content == f"\n\n*{reason}*\n\n{NOT_RUN}"
    assert script.mismatches == []


async def test_a_denial_the_next_request_carries_is_shown_first_in_vercel(client) -> None:
    first = await post_events(client, "/v1/streaming_query?format=vercel", {"query": "Delete."})
    conversation = first[0]["messageMetadata"]["conversation_id"]
    denied = [{"approval_id": "approval_1", "approved": False, "reason": "not today"}]
    body = {"conversation_id": conversation, "tool_approvals": denied}
    parts = await post_events(client, "/v1/streaming_query?format=vercel", body)
    assert parts[1] == {"type": "tool-output-denied", "toolCallId": "approval_1"}
    assert [part["delta"] for part in parts if part["type"] == "text-delta"] == [
        "delete_pod ",
        "was ",
        "not ",
        "run.",
    ]
