"""`@a2a-js/sdk`'s client (A2A 1.0, JSON-RPC) against the agent card and `POST /a2a`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.clients.conftest import LiveService
from tests.clients.scenarios import TEXT_ANSWER, UPSTREAM_ERROR, failing_turn, silent_turn
from tests.clients.test_node_clients import run

pytestmark = pytest.mark.node


async def send(node: str, base: str, **job: Any) -> dict[str, Any]:
    return await run(node, "a2a_client.mjs", url=base, text="What is the weather?", **job)


def answer(events: list[dict[str, Any]]) -> str:
    """The answer's text: every artifact chunk's text parts, in order."""
    return "".join(
        part["content"]["value"]
        for event in events
        if event["payload"]["$case"] == "artifactUpdate"
        for part in event["payload"]["value"]["artifact"]["parts"]
    )


def states(events: list[dict[str, Any]]) -> list[Any]:
    return [
        event["payload"]["value"]["status"]["state"]
        for event in events
        if event["payload"]["$case"] == "statusUpdate"
    ]


async def test_the_js_client_streams_a_turn_with_heartbeats_to_its_completed_status(
    node: str, live_service: LiveService
) -> None:
    result = await send(node, await live_service(silent_turn()))
    assert result["error"] is None, result["error"]
    events = result["events"]
    assert events[0]["payload"]["$case"] == "task"
    assert answer(events) == TEXT_ANSWER
    assert states(events) == [2, 3]  # TASK_STATE_WORKING, TASK_STATE_COMPLETED


async def test_the_js_client_s_plain_send_gets_the_finished_task(
    node: str, live_service: LiveService
) -> None:
    result = await send(node, await live_service(silent_turn()), stream=False)
    assert result["error"] is None, result["error"]
    (task,) = result["events"]  # SendMessage's result: a Task (or a Message)
    assert task["status"]["state"] == 3
    assert [part["content"]["value"] for part in task["artifacts"][0]["parts"]] == [TEXT_ANSWER]


async def test_the_js_client_sees_an_upstream_failure_as_a_failed_status(
    node: str, live_service: LiveService
) -> None:
    result = await send(node, await live_service(failing_turn()))
    assert result["error"] is None, result["error"]
    last = result["events"][-1]["payload"]["value"]["status"]
    assert last["state"] == 4  # TASK_STATE_FAILED
    assert [part["content"]["value"] for part in last["message"]["parts"]] == [UPSTREAM_ERROR]
