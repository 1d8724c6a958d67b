"""`@ag-ui/client`'s HttpAgent against `POST /v1/ag-ui`; every event also checked by `ag-ui-protocol`."""

from __future__ import annotations

from typing import Any

import pytest
from ag_ui.core import Event as AgUiEvent
from pydantic import TypeAdapter

from fakes.agents_upstream import FakeAgentsUpstream
from tests.clients.conftest import LiveService
from tests.clients.scenarios import (
    TEXT_ANSWER,
    TOOL_ANSWER,
    UPSTREAM_ERROR,
    failing_turn,
    silent_turn,
    tool_turn,
)
from tests.clients.test_node_clients import run

pytestmark = pytest.mark.node

EVENTS: TypeAdapter[Any] = TypeAdapter(AgUiEvent)
QUESTION = {"id": "u1", "role": "user", "content": "What is the weather in Paris?"}


async def run_agent(node: str, base: str, **job: Any) -> dict[str, Any]:
    job = {"threadId": "thread-1", "runId": "run-1", "messages": [QUESTION], **job}
    return await run(node, "ag_ui_agent.mjs", url=f"{base}/v1/ag-ui", **job)


def validated(result: dict[str, Any]) -> list[str]:
    """Every event the client applied, validated by ag-ui-protocol's models; their types."""
    assert result["error"] is None, result["error"]
    return [EVENTS.validate_python(event).type.value for event in result["events"]]


def without_ids(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in message.items() if k != "id"} for message in messages]


async def test_a_tool_turn_leaves_the_tool_call_its_result_and_the_answer_in_the_messages(
    node: str, live_service: LiveService
) -> None:
    result = await run_agent(node, await live_service(tool_turn()))
    kinds = validated(result)
    assert (kinds[0], kinds[-1]) == ("RUN_STARTED", "RUN_FINISHED")
    assert kinds.count("TOOL_CALL_START") == kinds.count("TOOL_CALL_END") == 1
    call = {
        "id": "call_fake_0001",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":"test"}'},
    }
    assert without_ids(result["messages"]) == [
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "toolCalls": [call]},
        {
            "toolCallId": "call_fake_0001",
            "role": "tool",
            "content": '{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}',
        },
        {"role": "assistant", "content": TOOL_ANSWER},
    ]
    assert result["events"][0] == {"type": "RUN_STARTED", "threadId": "thread-1", "runId": "run-1"}


async def test_three_seconds_of_upstream_silence_keep_the_run_whole(
    node: str, live_service: LiveService
) -> None:
    result = await run_agent(node, await live_service(silent_turn()))
    assert validated(result)[-1] == "RUN_FINISHED"
    assert without_ids(result["messages"])[-1] == {"role": "assistant", "content": TEXT_ANSWER}


async def test_an_upstream_failure_is_the_run_s_last_event_run_error(
    node: str, live_service: LiveService
) -> None:
    result = await run_agent(node, await live_service(failing_turn()))
    kinds = validated(result)
    assert kinds[-1] == "RUN_ERROR"
    assert result["events"][-1] == {
        "type": "RUN_ERROR",
        "message": UPSTREAM_ERROR,
        "code": "upstream_error",
    }
    assert without_ids(result["messages"])[-1] == {
        "role": "assistant",
        "content": "This answer will fail ",
    }


async def test_the_next_run_of_a_thread_continues_its_conversation(
    node: str, live_service: LiveService, fake_agents: FakeAgentsUpstream
) -> None:
    base = await live_service(tool_turn())
    first = await run_agent(node, base)
    history = [*first["messages"], {"id": "u2", "role": "user", "content": "And tomorrow?"}]
    second = await run_agent(node, base, messages=history, runId="run-2")
    assert validated(second)[-1] == "RUN_FINISHED"
    assert len(fake_agents.sessions) == 1, "one thread, one agent conversation"
    asked = [turn["body"]["messages"][0]["content"] for turn in fake_agents.turns]
    assert asked == ["What is the weather in Paris?", "And tomorrow?"]
    other = await run_agent(node, base, threadId="thread-2", runId="run-3")
    assert validated(other)[-1] == "RUN_FINISHED"
    assert len(fake_agents.sessions) == 2, "another thread, another conversation"
