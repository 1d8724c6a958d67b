"""Differential test: our Responses normalizer + `lightspeed-0.7` vs lightspeed-stack 0.7.1 itself.

The oracle is 0.7.1's whole app (`tests/oracle/app_oracle.py`: its venv from
`make_release_venv.sh 0.7.1`, built by `make oracle`) in front of a fake OGX 1.2.5 replaying each
`responses-0.7.3` capture; our side is the same capture through the gateway's pipeline. The
bodies are compared byte for byte after the deliberate differences below.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from formatters.lightspeed_07 import Lightspeed07Formatter
from tests.oracle.app_oracle import (
    LIST_TOOLS,
    START,
    START_IDS,
    TOOL_FRAME,
    oracle_bodies,
    ours,
    upstream_message,
)

pytestmark = pytest.mark.oracle

# The captures both sides render identically (up to DELIBERATE).
SAME = ("text", "long", "shield-safe", "tool-result", "fail-mid", "fail-drop", "mcp")
PARTIAL = re.compile(r'data: \{"event": "turn_complete", [^\n]*\n\n(?=data: \{"event": "error")')
GENERIC_CAUSE = '"cause": "An unexpected error occurred while processing the request."'
COUNTS = re.compile(r'"input_tokens": \d+, "output_tokens": \d+')


def deliberate(name: str, theirs: str) -> str:
    """0.7.1's body edited into ours where we differ on purpose.

    - an MCP tool listing (0.7.1: a `tool_call`/`tool_result` pair of type `mcp_list_tools`,
      the calls after it in round 2) is not sent;
    - a failed turn: 0.7.1 sends the text so far as `turn_complete` before its error frame and
      counts no tokens in `end`; we send no `turn_complete` (the turn did not complete) and the
      usage the upstream reported before failing; our error frame's `cause` is the upstream's
      message (0.7.1: a generic sentence), as every format's error frame carries it.
    """
    theirs = START.sub(START_IDS, theirs)
    if name == "mcp":
        assert len(LIST_TOOLS.findall(theirs)) == 2, theirs
        theirs = LIST_TOOLS.sub("", theirs).replace('"round": 2}', '"round": 1}')
    if name.startswith("fail"):
        assert PARTIAL.search(theirs), theirs
        theirs = PARTIAL.sub("", theirs)
        assert GENERIC_CAUSE in theirs
        theirs = theirs.replace(GENERIC_CAUSE, f'"cause": {json.dumps(upstream_message(name))}')
    return theirs


@pytest.fixture(scope="module")
def oracle() -> dict[str, str]:
    return asyncio.run(oracle_bodies("0.7.1", (*SAME, "file_search")))


@pytest.mark.parametrize("name", SAME)
async def test_frames_match_lightspeed_stack_0_7_1(name: str, oracle: dict[str, str]) -> None:
    theirs = deliberate(name, oracle[name])
    mine = await ours(name, Lightspeed07Formatter())
    if name.startswith("fail"):
        mine = COUNTS.sub('"input_tokens": 0, "output_tokens": 0', mine)
    assert mine == theirs


async def test_a_file_search_differs_only_in_its_tool_frames(oracle: dict[str, str]) -> None:
    """0.7.1 shows a file_search's call with the `queries` the model sent and its result as the
    search's JSON (`status` `completed`); the normalized events keep the text of the chunks
    found and the query as the model asked for it. Every other frame is 0.7.1's.
    """
    theirs = START.sub(START_IDS, oracle["file_search"])
    mine = await ours("file_search", Lightspeed07Formatter())
    assert TOOL_FRAME.sub("", mine) == TOOL_FRAME.sub("", theirs)
    assert [m[0] for m in TOOL_FRAME.finditer(theirs)] == [
        m[0] for m in TOOL_FRAME.finditer(theirs) if '"queries": ' in m[0] or '"completed"' in m[0]
    ]
    assert len(TOOL_FRAME.findall(mine)) == len(TOOL_FRAME.findall(theirs)) == 2
