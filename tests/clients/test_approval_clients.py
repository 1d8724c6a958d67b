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
from aiohttp.test_utils import TestServer
from google.protobuf import json_format
from openai.types.responses.response_input_param import McpApprovalResponse
from openai.types.responses.response_output_item import McpApprovalRequest

from fakes.responses_upstream import FakeResponsesUpstream
from tests.clients.test_node_clients import run
from tests.conftest import MakeClient
from tests.service.test_approval_formats import A2A_APPROVAL_REQUEST, ASKING

QUESTION = "Delete pod a."
APPROVAL_REQUEST_ITEM = {
    "id": "approval_1",
    "type": "mcp_approval_request",
    "server_label": "k8s",
    "name": "delete_pod",
    "arguments": '{"pod":"a"}',
}


@pytest.fixture
def fake_responses() -> FakeResponsesUpstream:
    return FakeResponsesUpstream(steps=list(ASKING))


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
    assert result["finishes"][0] == {"finishReason": "tool-calls", "isError": False}


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
