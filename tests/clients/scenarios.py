"""Scripted agent turns for the real clients: tool calls, idle stretches, an upstream error."""

from __future__ import annotations

from fakes.agents_upstream import Sleep, Step, fixture_steps

HEARTBEAT = 0.3
"""Heartbeat interval of the service under test: every idle stretch below has several."""
IDLE = 1.0


def tool_turn() -> list[Step]:
    """mcp.sse: a tool call, a silent tool run, the tool's result, then the answer."""
    steps = fixture_steps("mcp.sse")
    return [*steps[:5], Sleep(IDLE), *steps[5:]]


def failing_turn() -> list[Step]:
    """fail-mid.sse: two words, a silence, two words, then llama-stack's error chunk."""
    steps = fixture_steps("fail-mid.sse")
    return [*steps[:3], Sleep(IDLE), *steps[3:]]


def silent_turn() -> list[Step]:
    """text.sse with 3 s of upstream silence after its first word."""
    steps = fixture_steps("text.sse")
    return [*steps[:3], Sleep(SILENCE), *steps[3:]]


SILENCE = 3.0
TEXT_ANSWER = "Hello from the fake model. This is a scripted answer."
TOOL_ANSWER = (
    'The tool returned: {"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}'
)
UPSTREAM_ERROR = "500: Internal server error: An unexpected error occurred."
