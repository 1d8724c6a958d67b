"""Differential test: our Responses normalizer + `lightspeed-0.4` vs lightspeed-stack 0.4.2 itself.

The oracle is 0.4.2's whole app (`tests/oracle/app_oracle.py`: its venv from
`make_release_venv.sh 0.4.2`, built by `make oracle`, llama-stack-client 0.4.3) in front of a
fake llama-stack 0.4.3 replaying each `responses-0.7.3` capture; our side is the same capture
through the gateway's pipeline. The bodies are compared byte for byte after the deliberate
differences below.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from formatters.lightspeed_04 import Lightspeed04Formatter
from tests.oracle.app_oracle import LIST_TOOLS, START, START_IDS, TOOL_FRAME, oracle_bodies, ours

pytestmark = pytest.mark.oracle

# The captures both sides render identically (up to `deliberate`).
SAME = (
    "text",
    "long",
    "shield-safe",
    "tool-result",
    "fail",
    "fail-mid",
    "fail-drop",
    "mcp",
    "tool",
    "shield",
)
EMPTY_ANSWER = 'data: {"event": "turn_complete", "data": {"id": 0, "token": ""}}\n\n'
REFUSAL = "I can't answer that. Can I help with something else? (flagged for: Violent Crimes) (violation type: S1)"
# 0.4.2 adds the MCP server's label to a call's arguments
MCP_ARGS = '"args": {"city": "test", "server_label": "fake"}'


def deliberate(name: str, theirs: str) -> str:
    """0.4.2's body edited into ours where we differ on purpose.

    - each side's own conversation and request ids;
    - an MCP tool listing (0.4.2: a `tool_call`/`tool_result` pair of type `mcp_list_tools`) is
      not sent, and an MCP call's `args` are the model's (0.4.2 adds `server_label`);
    - a turn that stops at a client-side function call ends with the `tool_call` frame (0.4.2
      also sends an empty `turn_complete`);
    - a guardrail's refusal is the answer, a `token` and the `turn_complete` (0.4.2 reads no
      text from it and sends an empty `turn_complete`).
    """
    theirs = START.sub(START_IDS, theirs)
    if name == "mcp":
        assert len(LIST_TOOLS.findall(theirs)) == 2, theirs
        assert MCP_ARGS in theirs
        theirs = LIST_TOOLS.sub("", theirs).replace(MCP_ARGS, '"args": {"city": "test"}')
    if name == "tool":
        assert theirs.count(EMPTY_ANSWER) == 1
        theirs = theirs.replace(EMPTY_ANSWER, "")
    if name == "shield":
        assert theirs.count(EMPTY_ANSWER) == 1
        refusal = json.dumps(REFUSAL)
        theirs = theirs.replace(
            EMPTY_ANSWER,
            f'data: {{"event": "token", "data": {{"id": 0, "token": {refusal}}}}}\n\n'
            f'data: {{"event": "turn_complete", "data": {{"id": 1, "token": {refusal}}}}}\n\n',
        )
    return theirs


@pytest.fixture(scope="module")
def oracle() -> dict[str, str]:
    return asyncio.run(oracle_bodies("0.4.2", (*SAME, "file_search")))


@pytest.mark.parametrize("name", SAME)
async def test_frames_match_lightspeed_stack_0_4_2(name: str, oracle: dict[str, str]) -> None:
    assert await ours(name, Lightspeed04Formatter()) == deliberate(name, oracle[name])


async def test_a_file_search_differs_only_in_its_tool_frames(oracle: dict[str, str]) -> None:
    """As with 0.7.1: 0.4.2 shows the call's `queries` and the search's JSON (`completed`)."""
    theirs = START.sub(START_IDS, oracle["file_search"])
    mine = await ours("file_search", Lightspeed04Formatter())
    assert TOOL_FRAME.sub("", mine) == TOOL_FRAME.sub("", theirs)
    assert '"args": {"queries": ' in theirs and '"status": "completed"' in theirs
    assert len(TOOL_FRAME.findall(mine)) == len(TOOL_FRAME.findall(theirs)) == 2
