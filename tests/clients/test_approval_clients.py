"""Tool approvals read by each format's official client: `ai`, `openai`, `@ag-ui/client`, a2a-sdk.

The service is in front of the fake Responses upstream, whose response stops at an MCP tool
call that needs approval (`mcp_approval_request`), as OGX's does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from a2a.client import ClientConfig, ClientFactory
from a2a.types import Message, Part, Role, SendMessageRequest, TaskState
from ag_ui.core import Event as AgUiEvent
from aiohttp.test_utils import TestServer
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct, Value
from openai.types.responses.response_input_param import McpApprovalResponse
from openai.types.responses.response_output_item import McpApprovalRequest, McpCall
from pydantic import TypeAdapter

from fakes.responses_upstream import ApprovalScript, FakeResponsesUpstream
from tests.clients.test_node_clients import run
from tests.conftest import MakeClient
from tests.service.test_approval_formats import (
    A2A_APPROVAL_REQUEST,
    ASKING,
)
from tests.service.test_approval_formats import (
    APPROVAL_ITEM as ASKED_ITEM,
)

QUESTION = "Delete pod a."
EVENTS: TypeAdapter[Any] = TypeAdapter(AgUiEvent)
APPROVAL_REQUEST_ITEM = {
    "id": "approval_1",
    "type": "mcp_approval_request",
    "server_label": "k8s",
    "name": "delete_pod",
    "arguments": '{"pod":"a"}',
}


@pytest.fixture
def script() -> ApprovalScript:
    """How the fake answers a continuation: the approved call runs (output "done")."""
    return ApprovalScript(asked={"approval_1": ASKED_ITEM})


@pytest.fixture
def fake_responses(script: ApprovalScript) -> FakeResponsesUpstream:
    return FakeResponsesUpstream(turns=[list(ASKING)], script=script)


@pytest.fixture
async def base(responses_server: TestServer, make_client: MakeClient) -> str:
    """The service's URL, in front of the fake upstream (streams resumable)."""
    client = await make_client(
        llama_stack_base_url=str(responses_server.make_url("/")),
        llama_stack_api="responses",
        heartbeat_interval=1.0,
        resume_window=30.0,
    )
    return str(client.make_url("")).rstrip("/")


@pytest.mark.node
async def test_the_ai_chat_shows_the_approval_and_sends_the_decision_as_tool_approvals(
    node: str, base: str
) -> None:
    result = await run(
        node,
        "ai_approval.mjs",
        url=f"{base}/v1/streaming_query?format=vercel",
        question=QUESTION,
        approved=True,
        reason="pod a is a test pod",
    )
    assert result["asked"] == [
        {
            "type": "dynamic-tool",
            "toolName": "delete_pod",
            "toolCallId": "approval_1",
            "state": "approval-requested",
            "input": {"pod": "a"},
            "providerExecuted": True,
            "approval": {"id": "approval_1"},
        }
    ]
    first, second = result["requests"]
    assert first == {"query": QUESTION}
    conversation = result["messages"][-1]["metadata"]["conversation_id"]
    assert second == {
        "conversation_id": conversation,
        "tool_approvals": [
            {"approval_id": "approval_1", "approved": True, "reason": "pod a is a test pod"}
        ],
    }
    assert result["errors"] == []
    assert result["finishes"] == [
        {"finishReason": "tool-calls", "isError": False},
        {"finishReason": "stop", "isError": False},
    ]
    _, assistant = result["messages"]  # the continuation goes on in the same message
    assert [part for part in assistant["parts"] if part["type"] != "step-start"] == [
        {**result["asked"][0], "state": "approval-responded", "approval": {
            "id": "approval_1", "approved": True, "reason": "pod a is a test pod"}},
        {
            "type": "dynamic-tool",
            "toolName": "delete_pod",
            "toolCallId": "mcp_approval_1",
            "state": "output-available",
            "input": {"pod": "a"},
            "output": "done",
            "providerExecuted": True,
        },
        {"type": "text", "text": "delete_pod said done.", "state": "done"},
    ]  # fmt: skip


async def test_the_openai_sdk_parses_the_mcp_approval_request_item(base: str) -> None:
    async with openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="unused") as client:
        async with client.responses.stream(model="m", input=QUESTION) as stream:
            kinds = [event.type async for event in stream]
            final = await stream.get_final_response()
        (item,) = final.output
        assert isinstance(item, McpApprovalRequest)
        decision: McpApprovalResponse = {
            "type": "mcp_approval_response",
            "approval_request_id": item.id,
            "approve": True,
        }
        with pytest.raises(openai.BadRequestError) as refused:  # which response it answers?
            await client.responses.create(model="m", input=[decision])
        async with client.responses.stream(
            model="m", input=[decision], previous_response_id=final.id
        ) as stream:
            went_on = await stream.get_final_response()
        with pytest.raises(openai.ConflictError) as again:
            await client.responses.create(
                model="m", input=[decision], previous_response_id=final.id
            )
    assert again.value.code == "approval_request_closed"
    assert went_on.status == "completed"
    assert went_on.previous_response_id == final.id
    ran, said = went_on.output
    assert said.type == "message"
    assert isinstance(ran, McpCall)
    assert (ran.id, ran.name, ran.output, ran.error) == (
        "mcp_approval_1",
        "delete_pod",
        "done",
        None,
    )
    assert went_on.output_text == "delete_pod said done."
    assert refused.value.code == "unsupported_request"
    assert kinds[-3:] == [
        "response.output_item.added",
        "response.output_item.done",
        "response.completed",
    ]
    assert final.status == "completed"
    assert item.model_dump() == APPROVAL_REQUEST_ITEM


@pytest.mark.node
async def test_the_ag_ui_client_ends_the_run_with_the_approval_interrupt(
    node: str, base: str
) -> None:
    question = {"id": "u1", "role": "user", "content": QUESTION}
    job = {"threadId": "thread-1", "runId": "run-1", "messages": [question]}
    result = await run(node, "ag_ui_agent.mjs", url=f"{base}/v1/ag-ui", **job)
    assert result["error"] is None
    assert result["events"][-1]["outcome"]["type"] == "interrupt"
    (interrupt,) = result["pendingInterrupts"]
    assert interrupt["id"] == "approval_1"
    assert interrupt["toolCallId"] == "approval_1"
    assert interrupt["reason"] == "tool_approval"
    assert interrupt["metadata"] == {
        "toolName": "delete_pod",
        "arguments": {"pod": "a"},
        "serverLabel": "k8s",
    }
    call = {
        "id": "approval_1",
        "type": "function",
        "function": {"name": "delete_pod", "arguments": '{"pod":"a"}'},
    }
    assert result["messages"][-1]["toolCalls"] == [call]


@pytest.fixture
async def a2a(base: str) -> AsyncIterator[Any]:
    client = await ClientFactory(ClientConfig(streaming=True)).create_from_url(base)
    yield client
    await client.close()


async def test_a2a_sdk_sees_the_task_input_required_with_the_approval_request(a2a: Any) -> None:
    message = Message(role=Role.ROLE_USER, message_id="m-1", parts=[Part(text=QUESTION)])
    events = [event async for event in a2a.send_message(SendMessageRequest(message=message))]
    last = events[-1].status_update
    assert last.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    text, data = last.status.message.parts
    assert text.text.startswith("Approve or deny running delete_pod")
    assert json_format.MessageToDict(data.data) == A2A_APPROVAL_REQUEST
    assert events[0].task.status.state == TaskState.TASK_STATE_SUBMITTED


@pytest.mark.node
async def test_the_ag_ui_client_resumes_the_interrupted_run_with_the_decision(
    node: str, base: str, script: ApprovalScript
) -> None:
    question = {"id": "u1", "role": "user", "content": QUESTION}
    result = await run(
        node,
        "ag_ui_resume.mjs",
        url=f"{base}/v1/ag-ui",
        threadId="thread-1",
        message=question,
        approved=False,
        reason="not today",
    )
    assert result["error"] is None
    asked, resumed = result["runs"]
    assert [interrupt["id"] for interrupt in asked["interrupts"]] == ["approval_1"]
    assert resumed["interrupts"] == []
    assert "outcome" not in resumed["events"][-1]
    for event in asked["events"] + resumed["events"]:
        EVENTS.validate_python(event)
    _, call, refusal, answer = result["messages"]
    assert call["toolCalls"][0]["id"] == refusal["toolCallId"] == "approval_1"
    assert refusal["content"] == (
        "Tool 'delete_pod' execution was rejected. Do not retry this exact tool call. "
        "Reason: not today"
    )
    assert answer["content"] == "delete_pod was not run."
    assert script.mismatches == []


async def test_a2a_sdk_replies_to_the_input_required_task_and_it_completes(
    a2a: Any, script: ApprovalScript
) -> None:
    message = Message(role=Role.ROLE_USER, message_id="m-1", parts=[Part(text=QUESTION)])
    asked = [event async for event in a2a.send_message(SendMessageRequest(message=message))]
    waiting = asked[-1].status_update
    decision = Struct()
    decision.update({"approval_id": "approval_1", "approved": True})
    reply = Message(
        role=Role.ROLE_USER,
        message_id="m-2",
        task_id=waiting.task_id,
        context_id=waiting.context_id,
        parts=[Part(data=Value(struct_value=decision))],
    )
    events = [event async for event in a2a.send_message(SendMessageRequest(message=reply))]
    last = events[-1].status_update
    assert (last.task_id, last.status.state) == (waiting.task_id, TaskState.TASK_STATE_COMPLETED)
    texts = [
        part.text for event in events if event.HasField("artifact_update")
        for part in event.artifact_update.artifact.parts
    ]  # fmt: skip
    assert "".join(texts) == "delete_pod said done."
    assert script.mismatches == []
