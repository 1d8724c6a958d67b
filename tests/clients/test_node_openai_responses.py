"""The `openai` npm package (tests/clients/package.json) reads `POST /v1/responses` streams.

The service keeps resumable streams (`id:` lines on every frame, keep-alive comments between):
a plain turn, a tool turn, a 3 s silent stretch, an upstream failure and a resume by
`starting_after` each parse as the SDK's users see them.
"""

from __future__ import annotations

from typing import Any

import pytest

from fakes.agents_upstream import FakeAgentsUpstream, Step, fixture_steps
from tests.clients.scenarios import HEARTBEAT, TOOL_ANSWER, UPSTREAM_ERROR, failing_turn, tool_turn
from tests.clients.test_node_clients import run
from tests.clients.test_openai_responses import ANSWER, QUESTION, silent_turn

pytestmark = pytest.mark.node


@pytest.fixture
async def node_sdk(node: str, agents_client: Any, fake_agents: FakeAgentsUpstream) -> Any:
    """Run the npm SDK's script against the service playing `steps`."""

    async def start(steps: list[Step], **job: Any) -> dict[str, Any]:
        fake_agents.steps = steps
        service = await agents_client(heartbeat_interval=HEARTBEAT, resume_window=30.0)
        base_url = f"{str(service.make_url('')).rstrip('/')}/v1"
        return await run(node, "openai_responses.mjs", baseURL=base_url, input=QUESTION, **job)

    return start


async def test_the_npm_stream_helper_gives_the_final_response_of_a_plain_turn(node_sdk):
    result = await node_sdk(fixture_steps("text.sse"), mode="stream")
    assert result["error"] is None
    assert result["final"]["status"] == "completed"
    assert result["final"]["outputText"] == ANSWER
    assert [event["type"] for event in result["events"]][:2] == [
        "response.created",
        "response.in_progress",
    ]


async def test_the_npm_sdk_reads_a_tool_turn_as_an_mcp_call(node_sdk):
    result = await node_sdk(tool_turn(), mode="stream")
    assert result["error"] is None
    assert result["final"]["outputText"] == TOOL_ANSWER
    assert [item["type"] for item in result["final"]["output"]] == ["mcp_call", "message"]
    assert result["final"]["output"][0]["name"] == "get_weather"


async def test_the_npm_sdk_reads_through_a_3_s_silence(node_sdk):
    result = await node_sdk(silent_turn(), mode="create", timeoutMs=25000)
    assert result["error"] is None
    completed = result["events"][-1]
    assert completed["type"] == "response.completed"
    assert completed["response"]["output"][0]["content"][0]["text"] == ANSWER


async def test_the_npm_sdk_throws_its_api_error_on_an_upstream_failure(node_sdk):
    result = await node_sdk(failing_turn(), mode="stream")
    assert result["error"] == {
        "name": "APIError",
        "message": UPSTREAM_ERROR,
        "error": {"type": "server_error", "code": "upstream_error", "message": UPSTREAM_ERROR},
    }
    deltas = [e["delta"] for e in result["events"] if e["type"] == "response.output_text.delta"]
    assert "".join(deltas) == "This answer will fail "


async def test_the_npm_sdk_resumes_a_stream_after_a_sequence_number(node_sdk):
    result = await node_sdk(tool_turn(), mode="create", resumeAfter="response.output_item.done")
    assert result["error"] is None
    cut = next(e for e in result["events"] if e["type"] == "response.output_item.done")
    after = [e for e in result["events"] if e["sequence_number"] > cut["sequence_number"]]
    assert result["resumed"] == after
    assert result["resumed"][-1]["type"] == "response.completed"
