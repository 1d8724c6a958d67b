"""Differential test: our normalizer + `lightspeed-0.2` formatter vs lightspeed-stack 0.2.0 itself.

The oracle (`agents_oracle.py`) runs lightspeed-stack 0.2.0's real streaming handler in its own
virtual environment (`make_release_venv.sh 0.2.0`, built by `make oracle`); every case's chunks
go through both, and the bodies are compared byte for byte.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from formatters.lightspeed_02 import Lightspeed02Formatter
from tests.oracle.harness import (
    DOCUMENT_DIFFERENCES,
    END_PREFIX,
    assert_same_body,
    cases,
    ours,
    run_oracle,
)
from tests.paths import REPO

pytestmark = pytest.mark.oracle

ORACLE_PYTHON = REPO / ".venv-oracle-0.2.0" / "bin" / "python"
CASES = cases()


@pytest.fixture(scope="module")
def oracle() -> dict[str, dict[str, Any]]:
    return run_oracle(
        ORACLE_PYTHON,
        ["agents_oracle.py", "--release", "0.2.0"],
        CASES,
        "tests/oracle/make_release_venv.sh 0.2.0",
    )


@pytest.mark.parametrize("name", list(CASES))
async def test_frames_match_lightspeed_stack_0_2(
    name: str, oracle: dict[str, dict[str, Any]]
) -> None:
    expected, mine = oracle[name], await ours(CASES[name], Lightspeed02Formatter())
    assert_same_body(name, expected, mine, DOCUMENT_DIFFERENCES)


async def test_an_upstream_error_ends_with_an_error_frame_where_0_2_dropped_the_connection(
    oracle: dict[str, dict[str, Any]],
) -> None:
    # 0.2.0 reads `chunk.event.payload` of every chunk before building its frames: an error chunk
    # has no event, so the real server aborts the body there (no error frame, no end frame).
    expected, mine = (
        oracle["fixture-fail-mid"],
        await ours(CASES["fixture-fail-mid"], Lightspeed02Formatter()),
    )
    assert expected["status"] == 3
    assert "'NoneType' object has no attribute 'payload'" in expected["messages"][0]
    rest = mine.removeprefix(expected["body"]).split("\n\n")
    (error_chunk,) = [c for c in CASES["fixture-fail-mid"]["chunks"] if "error" in c]
    frames_before = expected["body"].count("\n\n") - 1  # all but `start`
    error = {
        "event": "error",
        "data": {"id": frames_before, "token": error_chunk["error"]["message"]},
    }
    assert rest[0] == f"data: {json.dumps(error)}"
    assert rest[1].startswith(END_PREFIX) and rest[2:] == [""]
