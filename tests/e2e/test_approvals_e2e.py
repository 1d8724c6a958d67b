"""Tool approvals through our service in front of a real OGX / llama-stack Responses server.

The MCP tool is guarded (tests/e2e/approvals.yaml: `require_approval: always`), so the fake
model's `SCENARIO:tool` call waits for a person. A "route" format (`raw`, `patternfly`,
`lightspeed-0.7`) keeps its stream open and takes the decision at `POST /v1/tool-approvals`:
approved, the tool runs and the answer streams on in the same stream; denied, the stream says
the tool was refused; not decided within APPROVAL_TIMEOUT, the stream says it expired, and a
late decision is refused. A format that cannot ask (openai chat, anthropic) gets the tool
denied at once, and its answer says so.
A "request" format ends its stream with the request; the protocol's next request carries the
decision, each read and answered by the format's official client: `/v1/responses` by the
openai SDK (an `mcp_approval_response` input with `previous_response_id`), A2A by a2a-sdk (a
reply to the input-required task), `vercel` by the `ai` chat (tests/clients/ai_approval.mjs:
`addToolApprovalResponse`, sent as `tool_approvals`), AG-UI by `@ag-ui/client`
(tests/clients/ag_ui_approval.mjs: a second run resuming the interrupt). OGX never tells the
model of a denial (/work/notes/issue20-mechanics.md), so a denied turn's answer is empty and
the refusal is the format's own frame.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anthropic
import openai
import pytest
from a2a.client import ClientConfig, ClientFactory
from a2a.types import Message, Part, Role, SendMessageRequest, TaskState
from anthropic.types import MessageParam
from google.protobuf import json_format, struct_pb2

from tests.clients.http_tap import tapped_client
from tests.clients.test_node_clients import run
from tests.e2e.live import Frame, LiveStream
from tests.e2e.stacks import MCP_LABEL

pytestmark = pytest.mark.e2e

QUESTION = "SCENARIO:tool What is the weather in Paris?"
WEATHER = '{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}'
ANSWER = f"The tool returned: {WEATHER}"
REASON = "Not today."
REJECTED = f"Tool 'get_weather' execution was rejected. Do not retry this exact tool call. Reason: {REASON}"
"""lightspeed-service's words for a refused call, shown as the call's failed result."""


EXPIRY = "No decision came within 2 s, so get_weather was not run."
"""The reason of an approval that expired with APPROVAL_TIMEOUT=2."""
EXPIRED = "Tool 'get_weather' approval timed out. Do not retry this exact tool call."


Result = tuple[str, bool, str]
"""A tool result as a reader sees it: its call's id, whether it failed, its text."""


def _text(content: Any) -> str:
    return content if isinstance(content, str) else json.dumps(content)


def _raw_calls(frames: list[Frame]) -> list[tuple[str, str]]:
    return [(data["call_id"], data["name"]) for name, data in frames if name == "tool_call"]


def _raw_results(frames: list[Frame]) -> list[Result]:
    return [
        (data["call_id"], data["failed"], _text(data["content"]))
        for name, data in frames
        if name == "tool_result"
    ]


def _raw_answer(frames: list[Frame]) -> str:
    return "".join(data["text"] for name, data in frames if name == "text_delta")


def _patternfly_calls(frames: list[Frame]) -> list[tuple[str, str]]:
    return [
        (token["call_id"], token["tool_name"])
        for name, data in frames
        if name == "tool_call" and "status" not in (token := data["token"])
    ]


def _patternfly_results(frames: list[Frame]) -> list[Result]:
    return [
        (token["call_id"], token["status"] == "failure", token["response"])
        for name, data in frames
        if name == "tool_call" and "status" in (token := data["token"])
    ]


def _patternfly_answer(frames: list[Frame]) -> str:
    return "".join(
        data["token"] for name, data in frames if name == "token" and data["role"] == "inference"
    )


def _lightspeed_07_calls(frames: list[Frame]) -> list[tuple[str, str]]:
    return [(data["id"], data["name"]) for name, data in frames if name == "tool_call"]


def _lightspeed_07_results(frames: list[Frame]) -> list[Result]:
    return [
        (data["id"], data["status"] == "failure", data["content"])
        for name, data in frames
        if name == "tool_result"
    ]


def _lightspeed_07_answer(frames: list[Frame]) -> str:
    return "".join(data["token"] for name, data in frames if name == "token")


@dataclass(frozen=True)
class RouteFormat:
    """How a "route" format shows an approval, and how to read its frames."""

    name: str
    request: str
    """The approval request frame's name (its data has `approval_id`)."""
    call_id_field: str
    """The request's field naming the `tool_call` of the same call."""
    calls: Callable[[list[Frame]], list[tuple[str, str]]]
    results: Callable[[list[Frame]], list[Result]]
    answer: Callable[[list[Frame]], str]
    result_frame: bool
    """Whether a decision is an `approval_result` frame (lightspeed-service has none)."""
    shows_refusal: bool
    """Whether a refused call is shown as its failed tool result (raw has the event only)."""


ROUTE_FORMATS = {
    format.name: format
    for format in (
        RouteFormat(
            "raw",
            "approval_request",
            "call_id",
            _raw_calls,
            _raw_results,
            _raw_answer,
            result_frame=True,
            shows_refusal=False,
        ),
        RouteFormat(
            "patternfly",
            "approval_required",
            "tool_call_id",
            _patternfly_calls,
            _patternfly_results,
            _patternfly_answer,
            result_frame=True,
            shows_refusal=True,
        ),
        RouteFormat(
            "lightspeed-0.7",
            "approval_required",
            "tool_call_id",
            _lightspeed_07_calls,
            _lightspeed_07_results,
            _lightspeed_07_answer,
            result_frame=False,
            shows_refusal=True,
        ),
    )
}


@pytest.fixture(params=sorted(ROUTE_FORMATS))
def route_format(request: pytest.FixtureRequest) -> RouteFormat:
    return ROUTE_FORMATS[request.param]


async def asked(client: Any, fmt: RouteFormat) -> tuple[LiveStream, dict[str, Any]]:
    """Open a guarded turn's stream and read it up to its approval request."""
    response = await client.post(f"/v1/streaming_query?format={fmt.name}", json={"query": QUESTION})
    assert response.status == 200, await response.text()
    stream = LiveStream(response, fmt.name)
    _, request = await stream.until(lambda frame: frame[0] == fmt.request)
    assert request["approval_id"].startswith("approval_"), stream.describe()
    assert request[fmt.call_id_field] == request["approval_id"], stream.describe()
    assert fmt.calls(stream.frames) == [(request["approval_id"], "get_weather")], stream.describe()
    return stream, request


async def decide(client: Any, approval_id: str, approved: bool, **extra: Any) -> Any:
    return await client.post(
        "/v1/tool-approvals", json={"approval_id": approval_id, "approved": approved, **extra}
    )


def assert_decided(
    fmt: RouteFormat, stream: LiveStream, decision: str, reason: str | None, refusal: str
) -> None:
    """The rest of the stream says the decision: its `approval_result`, the refused call."""
    frames, context = stream.frames, stream.describe()
    [(_, request)] = [frame for frame in frames if frame[0] == fmt.request]
    approval_id = request["approval_id"]
    if fmt.result_frame:
        [result] = [data for name, data in frames if name == "approval_result"]
        seen = (result["approval_id"], result[fmt.call_id_field], result["decision"])
        assert (*seen, result["reason"]) == (approval_id, approval_id, decision, reason), context
    results = [(call == approval_id, failed, text) for call, failed, text in fmt.results(frames)]
    if decision == "approved":
        assert results == [(False, False, WEATHER)], context
        assert fmt.answer(frames) == ANSWER, context
    else:
        assert results == ([(True, True, refusal)] if fmt.shows_refusal else []), context
        assert fmt.answer(frames) == "", context  # OGX never tells the model
    names = stream.names()
    assert names[0] == "start" and names.count("start") == 1, context
    assert names[-1] == "end" and names.count("end") == 1, context
    assert "error" not in names, context


async def test_approved_the_tool_runs_and_the_answer_streams_on_in_the_same_stream(
    gateway, route_format
):
    client = await gateway(guarded=True)
    stream, request = await asked(client, route_format)
    decided = await decide(client, request["approval_id"], True)
    assert decided.status == 200, await decided.text()
    assert await decided.json() == {"approval_id": request["approval_id"], "decision": "approved"}
    await stream.rest()
    assert_decided(route_format, stream, "approved", None, "")


async def test_denied_the_tool_does_not_run_and_the_stream_says_so(gateway, route_format):
    client = await gateway(guarded=True)
    stream, request = await asked(client, route_format)
    decided = await decide(client, request["approval_id"], False, reason=REASON)
    assert decided.status == 200, await decided.text()
    assert await decided.json() == {"approval_id": request["approval_id"], "decision": "denied"}
    await stream.rest()
    assert_decided(route_format, stream, "denied", REASON, REJECTED)


async def test_undecided_the_request_expires_and_a_late_decision_is_refused(gateway, route_format):
    client = await gateway(guarded=True, approval_timeout=2.0)
    stream, request = await asked(client, route_format)
    await stream.rest()
    assert_decided(route_format, stream, "expired", EXPIRY, EXPIRED)
    late = await decide(client, request["approval_id"], True)
    assert late.status == 409, await late.text()
    assert (await late.json())["detail"]["response"], await late.text()


async def test_two_pending_approvals_are_decided_one_by_one_then_the_turn_goes_on(
    gateway, route_format
):
    client = await gateway(guarded=True)
    response = await client.post(
        f"/v1/streaming_query?format={route_format.name}",
        json={"query": "SCENARIO:tool:2 What is the weather in Paris and in Lyon?"},
    )
    assert response.status == 200, await response.text()
    stream = LiveStream(response, route_format.name)
    requests = [
        (await stream.until(lambda frame: frame[0] == route_format.request))[1] for _ in range(2)
    ]
    first, second = (request["approval_id"] for request in requests)
    assert first != second, stream.describe()
    decided = await decide(client, first, True)
    assert await decided.json() == {"approval_id": first, "decision": "approved"}
    decided = await decide(client, second, False, reason=REASON)
    assert await decided.json() == {"approval_id": second, "decision": "denied"}
    await stream.rest()
    context = stream.describe()
    results = [
        (call == second, failed, text) for call, failed, text in route_format.results(stream.frames)
    ]
    refused = [(True, True, REJECTED)] if route_format.shows_refusal else []
    assert results == [*refused, (False, False, WEATHER)], context
    assert route_format.answer(stream.frames) == ANSWER, context
    assert stream.names()[-1] == "end" and stream.names().count("start") == 1, context


async def guarded_url(gateway: Any, **overrides: Any) -> str:
    """Start our service in front of the guarded server; return its base URL."""
    service = await gateway(guarded=True, **overrides)
    return str(service.make_url("")).rstrip("/")


async def node_client(gateway: Any, node: str, script: str, path: str, **job: Any) -> Any:
    """Run a Node client script (tests/clients) on one of our routes, asking QUESTION."""
    url = f"{await guarded_url(gateway)}{path}"
    return await run(node, script, url=url, question=QUESTION, reason=REASON, **job)


@pytest.fixture
async def sdk(gateway: Any) -> Any:
    """The official openai SDK on our `/v1/responses`, in front of the guarded server."""
    clients: list[openai.AsyncOpenAI] = []

    async def make(**overrides: Any) -> openai.AsyncOpenAI:
        client, _ = tapped_client(await guarded_url(gateway, **overrides))
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def responded(client: openai.AsyncOpenAI, model: str, **body: Any) -> list[Any]:
    """Stream one response through the SDK; return its events."""
    stream = await client.responses.create(model=model, stream=True, **body)
    return [event async for event in stream]


def approval_requests(events: list[Any]) -> list[Any]:
    return [
        event.item
        for event in events
        if event.type == "response.output_item.done" and event.item.type == "mcp_approval_request"
    ]


async def sdk_asked(client: openai.AsyncOpenAI, model: str) -> tuple[Any, Any]:
    """Ask the guarded question; return the approval request item and the completed response."""
    events = await responded(client, model, input=QUESTION)
    [item] = approval_requests(events)
    assert (item.name, json.loads(item.arguments)) == ("get_weather", {"city": "test"})
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == ""
    return item, events[-1].response


def decision_item(item: Any, approve: bool) -> dict[str, Any]:
    return {"type": "mcp_approval_response", "approval_request_id": item.id, "approve": approve}


async def test_responses_sdk_approved_the_next_response_runs_the_tool_and_answers(sdk, llama_stack):
    model = llama_stack.version.model
    client = await sdk()
    item, response = await sdk_asked(client, model)
    events = await responded(
        client, model, previous_response_id=response.id, input=[decision_item(item, True)]
    )
    final = events[-1].response
    calls = [output for output in final.output if output.type == "mcp_call"]
    assert [(call.name, call.output, call.error) for call in calls] == [
        ("get_weather", WEATHER, None)
    ]
    assert final.output_text == ANSWER
    assert approval_requests(events) == []


async def test_responses_sdk_denied_the_tool_does_not_run(sdk, llama_stack):
    model = llama_stack.version.model
    client = await sdk()
    item, response = await sdk_asked(client, model)
    denied = {**decision_item(item, False), "reason": REASON}
    events = await responded(client, model, previous_response_id=response.id, input=[denied])
    final = events[-1].response
    assert events[-1].type == "response.completed"
    calls = [output for output in final.output if output.type == "mcp_call"]
    assert [(call.name, call.output, call.error) for call in calls] == [
        ("get_weather", None, REJECTED)
    ]
    assert approval_requests(events) == []


async def test_responses_sdk_a_decision_after_the_timeout_is_refused(sdk, llama_stack):
    model = llama_stack.version.model
    client = await sdk(approval_timeout=2.0)
    item, response = await sdk_asked(client, model)
    await asyncio.sleep(
        3.0
    )  # past its expiry (2 s), within the one more APPROVAL_TIMEOUT it is kept
    with pytest.raises(openai.ConflictError):
        await responded(
            client, model, previous_response_id=response.id, input=[decision_item(item, True)]
        )


@pytest.fixture
async def a2a(gateway: Any) -> Any:
    """a2a-sdk's streaming client, made from our agent card, in front of the guarded server."""
    clients: list[Any] = []

    async def make() -> Any:
        base = await guarded_url(gateway)
        client = await ClientFactory(ClientConfig(streaming=True)).create_from_url(base)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


def a2a_message(*parts: Part, **ids: str) -> SendMessageRequest:
    message = Message(role=Role.ROLE_USER, message_id=str(uuid.uuid4()), parts=list(parts), **ids)
    return SendMessageRequest(message=message)


def working_data(events: list[Any]) -> list[dict[str, Any]]:
    """The data parts of the working status updates (tool calls and results)."""
    return [
        json_format.MessageToDict(part.data)
        for event in events
        if event.WhichOneof("payload") == "status_update"
        and event.status_update.status.state == TaskState.TASK_STATE_WORKING
        for part in event.status_update.status.message.parts
        if part.WhichOneof("content") == "data"
    ]


async def a2a_asked(client: Any) -> tuple[Any, dict[str, Any]]:
    """Ask the guarded question; return the input-required status and its approval request."""
    events = [event async for event in client.send_message(a2a_message(Part(text=QUESTION)))]
    status = events[-1].status_update
    assert status.status.state == TaskState.TASK_STATE_INPUT_REQUIRED, events[-1]
    [request] = [
        json_format.MessageToDict(part.data)["approvalRequest"]
        for part in status.status.message.parts
        if part.WhichOneof("content") == "data"
    ]
    assert (request["name"], request["arguments"]) == ("get_weather", {"city": "test"})
    assert request["tool_call_id"] == request["approval_id"]
    return status, request


async def a2a_decided(client: Any, status: Any, decision: dict[str, Any]) -> list[Any]:
    """Reply to the input-required task with one decision; return the reply's events."""
    part = Part(data=json_format.ParseDict(decision, struct_pb2.Value()))
    reply = a2a_message(part, task_id=status.task_id, context_id=status.context_id)
    return [event async for event in client.send_message(reply)]


def a2a_answer(events: list[Any]) -> str:
    return "".join(
        part.text
        for event in events
        if event.WhichOneof("payload") == "artifact_update"
        for part in event.artifact_update.artifact.parts
    )


async def test_a2a_sdk_approved_the_task_runs_the_tool_and_completes_with_the_answer(a2a):
    client = await a2a()
    status, request = await a2a_asked(client)
    events = await a2a_decided(
        client, status, {"approval_id": request["approval_id"], "approved": True}
    )
    assert events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED, events[-1]
    results = [data["toolResult"] for data in working_data(events) if "toolResult" in data]
    assert [(r["name"], r["content"], r["failed"]) for r in results] == [
        ("get_weather", WEATHER, False)
    ]
    assert a2a_answer(events) == ANSWER


async def test_a2a_sdk_denied_the_tool_does_not_run_and_the_task_says_so(a2a):
    client = await a2a()
    status, request = await a2a_asked(client)
    decision = {"approval_id": request["approval_id"], "approved": False, "reason": REASON}
    events = await a2a_decided(client, status, decision)
    assert events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED, events[-1]
    results = [data["toolResult"] for data in working_data(events) if "toolResult" in data]
    assert [(r["name"], r["content"], r["failed"]) for r in results] == [
        ("get_weather", REJECTED, True)
    ]


@pytest.mark.node
@pytest.mark.parametrize(
    "approved",
    [pytest.param(True, id="approved"), pytest.param(False, id="denied")],
)
async def test_vercel_ai_chat_answers_the_approval_and_the_next_request_goes_on(
    gateway, node, approved
):
    path = "/v1/streaming_query?format=vercel"
    result = await node_client(gateway, node, "ai_approval.mjs", path, approved=approved)
    assert result["errors"] == []
    [asked] = [part for part in result["asked"] if part.get("state") == "approval-requested"]
    approval_id = asked["approval"]["id"]
    assert (asked["toolName"], asked["toolCallId"], asked["input"]) == (
        "get_weather",
        approval_id,
        {"city": "test"},
    )
    first, second = result["requests"]
    assert first == {"query": QUESTION}
    assert second["tool_approvals"] == [
        {"approval_id": approval_id, "approved": approved, "reason": REASON}
    ]
    assert [finish["finishReason"] for finish in result["finishes"]] == ["tool-calls", "stop"]
    parts = result["messages"][-1]["parts"]
    tools = [
        (part["toolCallId"] == approval_id, part["state"], part.get("output"))
        for part in parts
        if part["type"] == "dynamic-tool"
    ]
    text = "".join(part["text"] for part in parts if part["type"] == "text")
    if approved:
        assert tools == [(True, "approval-responded", None), (False, "output-available", WEATHER)]
        assert text == ANSWER
    else:  # the denied call is the approval's part, shown refused
        assert tools == [(True, "output-denied", None)]
        assert text == ""


@pytest.mark.node
@pytest.mark.parametrize(
    "approved",
    [pytest.param(True, id="approved"), pytest.param(False, id="denied")],
)
async def test_ag_ui_client_resumes_the_interrupt_and_the_run_goes_on(gateway, node, approved):
    thread = f"thread-{uuid.uuid4()}"
    job = {"approved": approved, "threadId": thread}
    result = await node_client(gateway, node, "ag_ui_approval.mjs", "/v1/ag-ui", **job)
    assert result["error"] is None
    [interrupt] = result["interrupts"]
    approval_id = interrupt["id"]
    assert (interrupt["reason"], interrupt["toolCallId"]) == ("tool_approval", approval_id)
    assert interrupt["metadata"] == {
        "toolName": "get_weather",
        "arguments": {"city": "test"},
        "serverLabel": MCP_LABEL,
    }
    first, second = result["runs"]
    assert first[-1]["type"] == "RUN_FINISHED" and first[-1]["outcome"]["type"] == "interrupt"
    assert second[-1]["type"] == "RUN_FINISHED" and "outcome" not in second[-1]
    assert result["pendingInterrupts"] == []
    results = [
        (event["toolCallId"] == approval_id, event["content"])
        for event in second
        if event["type"] == "TOOL_CALL_RESULT"
    ]
    text = "".join(e["delta"] for e in second if e["type"] == "TEXT_MESSAGE_CONTENT")
    if approved:
        assert (results, text) == ([(False, WEATHER)], ANSWER)
    else:
        assert (results, text) == ([(True, REJECTED)], "")


UNANSWERABLE = "This client cannot approve tool calls, so get_weather was not run."
"""What a format that cannot ask says of the guarded call the gateway denied at once."""


async def test_openai_chat_cannot_ask_so_the_answer_says_the_tool_did_not_run(sdk, llama_stack):
    client = await sdk()
    stream = await client.chat.completions.create(
        model=llama_stack.version.model,
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"\n\n*{UNANSWERABLE}*\n\n"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


async def test_anthropic_messages_cannot_ask_so_the_answer_says_the_tool_did_not_run(
    gateway, llama_stack
):
    base = await guarded_url(gateway)
    client = anthropic.AsyncAnthropic(base_url=base, api_key="unused", max_retries=0)
    question: list[MessageParam] = [{"role": "user", "content": QUESTION}]
    model = llama_stack.version.model
    try:
        async with client.messages.stream(model=model, max_tokens=256, messages=question) as stream:
            message = await stream.get_final_message()
    finally:
        await client.close()
    texts = [block.text for block in message.content if block.type == "text"]
    assert "".join(texts) == f"\n\n*{UNANSWERABLE}*\n\n"
