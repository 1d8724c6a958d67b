"""Four turns of the default `patternfly` format, as the service sends them, for frontend tests."""

from __future__ import annotations

from typing import Any

from fakes.agents_upstream import fixture_steps

DEMO_QUESTION = "What is this?"
SHIELD_REFUSAL = "I can't answer that. Can I help with something else?"
UPSTREAM_FAILURE = "500: Internal server error: An unexpected error occurred."
TOOL_ANSWER = (
    'The tool returned: {"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}'
)
TURNS = ("demo", "tool", "shield", "error")
"""The demo agent's turn, an MCP tool turn, a shield's refusal and an upstream failure."""

_FIXTURES = {"tool": "mcp.sse", "shield": "shield.sse", "error": "fail-mid.sse"}


async def patternfly_body(turn: str, make_client: Any, agents_client: Any, fake_agents: Any) -> str:
    """Return the body of `POST /v1/streaming_query` (no `format`: the default) for one turn."""
    if turn == "demo":
        client = await make_client()
    else:
        fake_agents.steps = fixture_steps(_FIXTURES[turn])
        client = await agents_client()
    query = DEMO_QUESTION if turn == "demo" else "SCENARIO:x"
    response = await client.post("/v1/streaming_query", json={"query": query})
    assert response.status == 200
    body: bytes = await response.read()
    return body.decode()
