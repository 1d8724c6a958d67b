"""`a2a-sdk`'s client (A2A 1.0, JSON-RPC) against the agent card and `POST /a2a`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.server.context import ServerCallContext
from a2a.server.tasks import InMemoryTaskStore, TaskManager
from a2a.types import (
    GetTaskRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    Task,
    TaskState,
)
from a2a.utils.errors import TaskNotFoundError, UnsupportedOperationError
from google.protobuf import json_format

from fakes.agents_upstream import FakeAgentsUpstream, Step
from tests.clients.scenarios import (
    HEARTBEAT,
    TEXT_ANSWER,
    TOOL_ANSWER,
    UPSTREAM_ERROR,
    failing_turn,
    silent_turn,
    tool_turn,
)

QUESTION = "What is the weather in Paris?"
TOOL_RESULT = '{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}'


@pytest.fixture
async def a2a(agents_client: Any, fake_agents: FakeAgentsUpstream) -> AsyncIterator[Any]:
    """An a2a-sdk client made from the service's agent card, in front of a scripted turn."""
    clients: list[Client] = []

    async def make(steps: list[Step], **settings: Any) -> Client:
        fake_agents.steps = steps
        service = await agents_client(heartbeat_interval=HEARTBEAT, **settings)
        base = str(service.make_url("")).rstrip("/")
        client = await ClientFactory(ClientConfig(streaming=True)).create_from_url(base)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


def question(**fields: Any) -> SendMessageRequest:
    message = Message(role=Role.ROLE_USER, message_id="m-1", parts=[Part(text=QUESTION)], **fields)
    return SendMessageRequest(message=message)


async def folded(events: list[StreamResponse]) -> Task:
    """The task the events describe, as the SDK's own TaskManager folds them."""
    manager = TaskManager(InMemoryTaskStore(), ServerCallContext(), None, None, None)
    for event in events:
        await manager.process(getattr(event, event.WhichOneof("payload")))
    task = await manager.get_task()
    assert task is not None
    return task


def kinds(events: list[StreamResponse]) -> list[str]:
    """Each event's kind; a status update as its state."""
    seen = []
    for event in events:
        kind = event.WhichOneof("payload")
        if kind == "status_update":
            kind = TaskState.Name(event.status_update.status.state)
        seen.append(kind)
    return seen


def answer_text(task: Task) -> str:
    (artifact,) = task.artifacts
    return "".join(part.text for part in artifact.parts)


async def test_a_plain_turn_streams_the_answer_as_one_artifact_then_completes(a2a):
    client = await a2a(silent_turn())
    events = [event async for event in client.send_message(question())]
    assert kinds(events)[:2] == ["task", "TASK_STATE_WORKING"]
    assert kinds(events)[-1] == "TASK_STATE_COMPLETED"
    task = await folded(events)
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert answer_text(task) == TEXT_ANSWER
    assert task.artifacts[0].artifact_id == "answer"
    assert task.context_id and task.id == events[0].task.id


async def test_the_tool_turn_s_call_and_result_are_working_status_messages_with_data(a2a):
    client = await a2a(tool_turn())
    events = [event async for event in client.send_message(question())]
    data = [
        json_format.MessageToDict(event.status_update.status.message.parts[0].data)
        for event in events
        if event.status_update.status.message.parts
        and event.status_update.status.state == TaskState.TASK_STATE_WORKING
    ]
    assert data == [
        {
            "toolCall": {
                "id": "call_fake_0001",
                "name": "get_weather",
                "arguments": {"city": "test"},
            }
        },
        {
            "toolResult": {
                "id": "call_fake_0001",
                "name": "get_weather",
                "content": TOOL_RESULT,
                "failed": False,
            }
        },
    ]
    task = await folded(events)
    assert (task.status.state, answer_text(task)) == (TaskState.TASK_STATE_COMPLETED, TOOL_ANSWER)


async def test_an_upstream_failure_is_a_failed_status_with_the_error_then_the_end(a2a):
    client = await a2a(failing_turn())
    events = [event async for event in client.send_message(question())]
    last = events[-1].status_update
    assert kinds(events)[-1] == "TASK_STATE_FAILED"
    assert [part.text for part in last.status.message.parts] == [UPSTREAM_ERROR]
    assert json_format.MessageToDict(last.metadata) == {"code": "upstream_error"}
    assert answer_text(await folded(events)) == "This answer will fail "


async def test_send_message_without_streaming_answers_the_finished_task(
    a2a, agents_client: Any, fake_agents: FakeAgentsUpstream
):
    await a2a(tool_turn())
    service = await agents_client()
    base = str(service.make_url("")).rstrip("/")
    client = await ClientFactory(ClientConfig(streaming=False)).create_from_url(base)
    try:
        (event,) = [event async for event in client.send_message(question())]
    finally:
        await client.close()
    assert event.task.status.state == TaskState.TASK_STATE_COMPLETED
    assert answer_text(event.task) == TOOL_ANSWER


async def test_a_subscriber_gets_the_task_as_it_stands_then_the_rest_and_nothing_twice(a2a):
    client = await a2a(silent_turn(), resume_window=30.0)
    first: list[StreamResponse] = []
    stream = client.send_message(question())
    async for event in stream:
        first.append(event)
        if event.HasField("artifact_update"):
            break  # the first word is in; the upstream is silent for 3 s now
    await stream.aclose()
    task_id = first[0].task.id
    resumed = [event async for event in client.subscribe(SubscribeToTaskRequest(id=task_id))]
    assert kinds(resumed)[0] == "task"
    assert kinds(resumed)[-1] == "TASK_STATE_COMPLETED"
    snapshot = resumed[0].task
    assert snapshot.status.state == TaskState.TASK_STATE_WORKING
    seen = answer_text(snapshot)
    assert TEXT_ANSWER.startswith(seen) and seen
    task = await folded(resumed)
    assert answer_text(task) == TEXT_ANSWER, "every chunk once: the snapshot's, then the rest"
    kept = await client.get_task(GetTaskRequest(id=task_id))
    assert (kept.id, kept.context_id, kept.status.state) == (
        task_id,
        task.context_id,
        task.status.state,
    )
    assert [part.text for part in kept.artifacts[0].parts] == [TEXT_ANSWER], "joined in one part"


async def test_another_task_id_is_not_found_and_a_finished_task_cannot_be_subscribed(a2a):
    client = await a2a(silent_turn(), resume_window=30.0)
    events = [event async for event in client.send_message(question())]
    with pytest.raises(TaskNotFoundError, match="No task has the id 'no-such-task-0000000'"):
        await client.get_task(GetTaskRequest(id="no-such-task-0000000"))
    with pytest.raises(UnsupportedOperationError, match="is in a terminal state"):
        async for _ in client.subscribe(SubscribeToTaskRequest(id=events[0].task.id)):
            pass
