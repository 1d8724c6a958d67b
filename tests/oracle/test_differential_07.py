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
from collections.abc import AsyncIterator

import pytest

from formatters.events import ErrorEvent, Event
from formatters.lightspeed_07 import Lightspeed07Formatter
from service.pipeline import run_stream
from service.upstream import Turn
from service.upstream.responses_normalizer import ResponsesNormalizer
from tests.fakes.responses_upstream import fixture_events, fixture_steps
from tests.oracle.app_oracle import app_oracle, require

pytestmark = pytest.mark.oracle

CONVERSATION = "c0ffee00-0000-0000-0000-000000000000"
# The captures both sides render identically (up to DELIBERATE).
SAME = ("text", "long", "shield-safe", "tool-result", "fail-mid", "fail-drop", "mcp")
# Each side's own ids: the conversation (0.7.1: OGX's, without `conv_`; ours: the gateway's)
# and the request id (a fresh UUID per request on both sides).
START = re.compile(r'"conversation_id": "[^"]*", "request_id": "[^"]*"')
START_IDS = '"conversation_id": "C", "request_id": "R"'
PARTIAL = re.compile(r'data: \{"event": "turn_complete", [^\n]*\n\n(?=data: \{"event": "error")')
GENERIC_CAUSE = '"cause": "An unexpected error occurred while processing the request."'
# 0.7.1 reports an MCP server's tool listing as a call and result of its own (and counts it as a
# round); the normalized events have no tool listing, so no other format shows it either.
LIST_TOOLS = re.compile(
    r'data: \{"event": "tool_(call|result)", "data": \{"id": "mcp_list_[^\n]*\n\n'
)
TOOL_FRAME = re.compile(r'data: \{"event": "tool_(call|result)", [^\n]*\n\n')
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


def upstream_message(name: str) -> str:
    """The message of the capture's failure, as the normalizer reads it."""
    normalizer = ResponsesNormalizer()
    for index, raw in enumerate(fixture_events(f"{name}.sse")):
        for event in normalizer.normalize(index, raw):
            if isinstance(event, ErrorEvent):
                return event.message
    raise AssertionError(f"{name} has no failure")


async def ours(name: str) -> str:
    """Our body for a capture: its events normalized, up to an error, through the pipeline."""
    normalizer = ResponsesNormalizer()

    async def events() -> AsyncIterator[Event]:
        for index, raw in enumerate(fixture_events(f"{name}.sse")):
            produced = normalizer.normalize(index, raw)
            for event in produced:
                yield event
            if any(isinstance(event, ErrorEvent) for event in produced):
                return

    body = bytearray()

    async def write(data: bytes) -> None:
        body.extend(data)

    turn = Turn(conversation_id=CONVERSATION, events=events())
    await run_stream(turn, Lightspeed07Formatter(), write, heartbeat_interval=60, stream_timeout=60)
    return START.sub(START_IDS, body.decode())


async def _oracle_bodies() -> dict[str, str]:
    async with app_oracle(require()) as app:
        names = (*SAME, "file_search")
        return {name: await app.body(fixture_steps(f"{name}.sse")) for name in names}


@pytest.fixture(scope="module")
def oracle() -> dict[str, str]:
    return asyncio.run(_oracle_bodies())


@pytest.mark.parametrize("name", SAME)
async def test_frames_match_lightspeed_stack_0_7_1(name: str, oracle: dict[str, str]) -> None:
    theirs = deliberate(name, oracle[name])
    mine = await ours(name)
    if name.startswith("fail"):
        mine = COUNTS.sub('"input_tokens": 0, "output_tokens": 0', mine)
    assert mine == theirs


async def test_a_file_search_differs_only_in_its_tool_frames(oracle: dict[str, str]) -> None:
    """0.7.1 shows a file_search's call with the `queries` the model sent and its result as the
    search's JSON (`status` `completed`); the normalized events keep the text of the chunks
    found and the query as the model asked for it. Every other frame is 0.7.1's.
    """
    theirs = START.sub(START_IDS, oracle["file_search"])
    mine = await ours("file_search")
    assert TOOL_FRAME.sub("", mine) == TOOL_FRAME.sub("", theirs)
    assert [m[0] for m in TOOL_FRAME.finditer(theirs)] == [
        m[0] for m in TOOL_FRAME.finditer(theirs) if '"queries": ' in m[0] or '"completed"' in m[0]
    ]
    assert len(TOOL_FRAME.findall(mine)) == len(TOOL_FRAME.findall(theirs)) == 2
