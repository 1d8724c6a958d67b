"""Differential test: our normalizer + `lightspeed-0.3` formatter vs lightspeed-stack 0.3.0 itself.

The oracle (`agents_oracle.py --release 0.3.0`) runs lightspeed-stack 0.3.0's real streaming
handler in its own virtual environment (`make_release_venv.sh 0.3.0`, built by `make oracle`);
every case's chunks go through both, and the bodies are compared byte for byte after the
deliberate differences below.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from formatters.lightspeed_03 import Lightspeed03Formatter
from tests.oracle.harness import (
    CONVERSATION,
    DOCUMENT_DIFFERENCES,
    assert_same_body,
    cases,
    ours,
    run_oracle,
)
from tests.paths import REPO

pytestmark = pytest.mark.oracle

ORACLE_PYTHON = REPO / ".venv-oracle-0.3.0" / "bin" / "python"
CASES = cases()
ERROR_FRAME = 'data: {"event": "error", "data": {"id": '
ERROR_E = 'data: {"event": "error", "data": {"id": 0, "token": "e"}}\n\n'
START = f'data: {{"event": "start", "data": {{"conversation_id": "{CONVERSATION}"}}}}\n\n'
# 0.3.0 counts the turn's tokens with llama-stack's Llama 3 tokenizer; we report the upstream's
# own usage (none in an Agents turn).
TOKEN_COUNTS = re.compile(r'"input_tokens": \d+, "output_tokens": \d+')
OUR_COUNTS = '"input_tokens": 0, "output_tokens": 0'

# Where we differ on purpose from 0.3.0 (besides the two document rules of every dialect):
DELIBERATE = {
    **{name: [edit] for name, edit in DOCUMENT_DIFFERENCES.items()},
    # arguments nested deeper than the client's type: 0.3.0's client keeps the integers of such
    # a chunk; we show them as the client does for arguments it accepts (floats, one level down)
    "args-nested": [('{"d": {"k": 1, ', '{"d": {"k": 1.0, '), ('"l": [1, ', '"l": [1.0, ')],
    # a text delta that is not a string is not text: we send a heartbeat, 0.3.0 the number
    "misc-float-token": [('"token": 5}', '"token": "heartbeat"}')],
    # a violation without metadata shows empty metadata
    "shield-violation-empty-obj": [("(Metadata: None)", "(Metadata: {})")],
    "valid-shield-no-metadata": [("(Metadata: None)", "(Metadata: {})")],
    # a chunk with both an error and an event is only an error: 0.3.0's stream_build_event no
    # longer returns after the error frame, and goes on to the event (here a turn start)
    "error-with-event": [(f"{ERROR_E}{START}", ERROR_E)],
}


@pytest.fixture(scope="module")
def oracle() -> dict[str, dict[str, Any]]:
    return run_oracle(
        ORACLE_PYTHON,
        ["agents_oracle.py", "--release", "0.3.0"],
        CASES,
        "tests/oracle/make_release_venv.sh 0.3.0",
    )


def without_our_error_frame(name: str, mine: str) -> str:
    """0.3.0 skips an error chunk without an event and ends the turn; we send an error frame.

    (An error chunk that also has an event gets 0.3.0's error frame, `{"id", "token"}`, as ours.)
    """
    if not any("error" in chunk and not chunk.get("event") for chunk in CASES[name]["chunks"]):
        return mine
    frames = mine.split("\n\n")
    assert frames[-3].startswith(ERROR_FRAME), frames[-3]
    return "\n\n".join(frames[:-3] + frames[-2:])


@pytest.mark.parametrize("name", list(CASES))
async def test_frames_match_lightspeed_stack_0_3(
    name: str, oracle: dict[str, dict[str, Any]]
) -> None:
    expected = dict(oracle[name])
    theirs = TOKEN_COUNTS.sub(OUR_COUNTS, expected["body"])
    for before, after in DELIBERATE.get(name, []):
        assert before in theirs
        theirs = theirs.replace(before, after)
    mine = await ours(CASES[name], Lightspeed03Formatter())
    if expected["status"] == 0:
        mine = without_our_error_frame(name, mine)
    assert_same_body(name, {**expected, "body": theirs}, mine, {})


def test_0_3_counts_tokens_itself(oracle: dict[str, dict[str, Any]]) -> None:
    end = oracle["fixture-text"]["body"].rsplit("\n\n", 2)[-2]
    counts = TOKEN_COUNTS.search(end)
    assert counts is not None and counts[0] != OUR_COUNTS
