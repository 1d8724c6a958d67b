"""Tool approvals through our service in front of a real OGX / llama-stack Responses server.

The MCP tool is guarded (tests/e2e/approvals.yaml: `require_approval: always`), so the fake
model's `SCENARIO:tool` call waits for a person. A "route" format (`raw`, `patternfly`) keeps
its stream open and takes the decision at `POST /v1/tool-approvals`: approved, the tool runs and
the answer streams on in the same stream; denied, the stream says the tool was refused; not
decided within APPROVAL_TIMEOUT, the stream says it expired, and a late decision is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.live import Frame, LiveStream

pytestmark = pytest.mark.e2e

QUESTION = "SCENARIO:tool What is the weather in Paris?"
WEATHER = '{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}'
ANSWER = f"The tool returned: {WEATHER}"
REASON = "Not today."


@dataclass(frozen=True)
class RouteFormat:
    """Where a "route" format puts an approval: its frames' names and fields."""

    name: str
    request: str
    call_id_field: str

    def answer(self, frames: list[Frame]) -> str:
        """The answer text the frames stream."""
        if self.name == "raw":
            return "".join(data["text"] for name, data in frames if name == "text_delta")
        return "".join(
            data["token"]
            for name, data in frames
            if name == "token" and data["role"] == "inference" and isinstance(data["token"], str)
        )

    def tool_results(self, frames: list[Frame]) -> list[tuple[str, bool, str]]:
        """Each tool result's tool name, whether it failed, and its text."""
        if self.name == "raw":
            return [
                (data["name"], data["failed"], _text(data["content"]))
                for name, data in frames
                if name == "tool_result"
            ]
        return [
            (token["tool_name"], token["status"] == "failure", token["response"])
            for name, data in frames
            if name == "tool_call" and "status" in (token := data["token"])
        ]

    def calls(self, frames: list[Frame]) -> list[tuple[str, str]]:
        """Each announced tool call's id and name."""
        if self.name == "raw":
            return [(data["call_id"], data["name"]) for name, data in frames if name == "tool_call"]
        return [
            (token["call_id"], token["tool_name"])
            for name, data in frames
            if name == "tool_call" and "status" not in (token := data["token"])
        ]


ROUTE_FORMATS = {
    "raw": RouteFormat("raw", request="approval_request", call_id_field="call_id"),
    "patternfly": RouteFormat(
        "patternfly", request="approval_required", call_id_field="tool_call_id"
    ),
}


def _text(content: Any) -> str:
    return content if isinstance(content, str) else json.dumps(content)


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


def result_of(frames: list[Frame]) -> dict[str, Any]:
    [result] = [data for name, data in frames if name == "approval_result"]
    return result


async def test_approved_the_tool_runs_and_the_answer_streams_on_in_the_same_stream(
    gateway, route_format
):
    client = await gateway(guarded=True)
    stream, request = await asked(client, route_format)
    decided = await decide(client, request["approval_id"], True)
    assert decided.status == 200, await decided.text()
    assert await decided.json() == {"approval_id": request["approval_id"], "decision": "approved"}
    rest = await stream.rest()
    context = stream.describe()
    assert result_of(rest)["decision"] == "approved", context
    assert route_format.tool_results(rest) == [("get_weather", False, WEATHER)], context
    assert route_format.answer(rest) == ANSWER, context
    names = stream.names()
    assert names.count("start") == 1 and names[0] == "start", context
    assert names[-1] == "end" and names.count("end") == 1, context
    assert "error" not in names, context


async def test_denied_the_tool_does_not_run_and_the_stream_says_so(gateway, route_format):
    client = await gateway(guarded=True)
    stream, request = await asked(client, route_format)
    decided = await decide(client, request["approval_id"], False, reason=REASON)
    assert decided.status == 200, await decided.text()
    assert await decided.json() == {"approval_id": request["approval_id"], "decision": "denied"}
    rest = await stream.rest()
    context = stream.describe()
    result = result_of(rest)
    assert (result["decision"], result["reason"]) == ("denied", REASON), context
    assert not [r for r in route_format.tool_results(rest) if not r[1]], context
    names = stream.names()
    assert names[-1] == "end" and names.count("start") == 1, context


async def test_undecided_the_request_expires_and_a_late_decision_is_refused(gateway, route_format):
    client = await gateway(guarded=True, approval_timeout=2.0)
    stream, request = await asked(client, route_format)
    rest = await stream.rest()
    context = stream.describe()
    assert result_of(rest)["decision"] == "expired", context
    assert not [r for r in route_format.tool_results(rest) if not r[1]], context
    assert stream.names()[-1] == "end", context
    late = await decide(client, request["approval_id"], True)
    assert late.status == 409, await late.text()
