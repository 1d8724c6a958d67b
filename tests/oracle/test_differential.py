"""Differential test: our normalizer + patternfly formatter vs lightspeed-stack 0.1.3 itself.

The oracle (`lightspeed_oracle.py`) runs lightspeed-stack 0.1.3's real streaming handler in its
own virtual environment (`make_venv.sh`, built by `make test`); every case's chunks go through
both, and the bodies are compared byte for byte.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from formatters.events import ErrorEvent, Event
from formatters.patternfly import PatternflyFormatter
from service.pipeline import run_stream
from service.upstream import Turn
from service.upstream.agents_normalizer import normalize_chunk
from tests.fakes.agents_upstream import fixture_chunks
from tests.paths import AGENTS_FIXTURES, REPO
from tests.test_reference_examples import EXAMPLES

pytestmark = pytest.mark.oracle

ORACLE_PYTHON = REPO / ".venv-oracle" / "bin" / "python"
ORACLE = Path(__file__).with_name("lightspeed_oracle.py")
CONVERSATION = "c0ffee00-0000-0000-0000-000000000000"
END_PREFIX = 'data: {"event": "end", '

# Where we differ on purpose (docs/formats.md, "where it differs from lightspeed-stack"): the exact
# edit that turns lightspeed-stack's body into ours.
DELIBERATE = {
    # a document repeated later without a title keeps its earlier complete entry
    "ks-dup-later-incomplete": (
        '"referenced_documents": [{"doc_url": "u2"',
        '"referenced_documents": [{"doc_url": "u1", "doc_title": "T1"}, {"doc_url": "u2"',
    ),
    # a document whose url or title is not a string is not a reference
    "ks-edge-docs": (', {"doc_url": null, "doc_title": 123}', ""),
    # a lone content item (not in a list) is shown as a one-item list
    "content-single-item-not-list": (
        "response:TextContentItem(text='solo', type='text')",
        "response:[TextContentItem(text='solo', type='text')]",
    ),
}


def cases() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(AGENTS_FIXTURES.glob("*.sse")):
        found[f"fixture-{path.stem}"] = {"chunks": fixture_chunks(path)}
    for name, chunks, _ in EXAMPLES:
        found[f"reference-{name}"] = {"chunks": chunks}
    for path in sorted(Path(__file__).with_name("cases").glob("*.json")):
        found[path.stem] = json.loads(path.read_text())
    for case in found.values():
        case["conversation_id"] = CONVERSATION
    return found


CASES = cases()


@pytest.fixture(scope="module")
def oracle() -> dict[str, dict[str, Any]]:
    if not ORACLE_PYTHON.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the oracle environment is missing: run {ORACLE.parent}/make_venv.sh")
        pytest.skip("no .venv-oracle: run `make oracle` (make test builds it)")
    names = list(CASES)
    completed = subprocess.run(
        [str(ORACLE_PYTHON), str(ORACLE), "--batch"],
        input=json.dumps([CASES[name] for name in names]),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return dict(zip(names, json.loads(completed.stdout), strict=True))


async def ours(case: dict[str, Any]) -> str:
    async def events() -> AsyncIterator[Event]:
        for index, chunk in enumerate(case["chunks"]):
            produced = normalize_chunk(index, chunk)
            for event in produced:
                yield event
            if any(isinstance(event, ErrorEvent) for event in produced):
                return

    body = bytearray()

    async def write(data: bytes) -> None:
        body.extend(data)

    turn = Turn(conversation_id=case["conversation_id"], events=events())
    await run_stream(turn, PatternflyFormatter(), write, heartbeat_interval=60, stream_timeout=60)
    return body.decode()


@pytest.mark.parametrize("name", list(CASES))
async def test_frames_match_lightspeed_stack(name: str, oracle: dict[str, dict[str, Any]]) -> None:
    expected, mine = oracle[name], await ours(CASES[name])
    if expected["status"] == 0:
        theirs = expected["body"]
        if name in DELIBERATE:
            before, after = DELIBERATE[name]
            assert before in theirs
            theirs = theirs.replace(before, after)
        assert mine == theirs
    else:
        # lightspeed-stack aborted mid-stream: we send the same frames up to that point, then
        # finish the stream (with an error frame where there was an error) and `end`.
        assert expected["status"] == 3, expected["messages"]
        assert mine.startswith(expected["body"])
        assert mine.rsplit("\n\n", 2)[-2].startswith(END_PREFIX)


def test_the_oracle_covers_the_fixtures_and_the_reference() -> None:
    assert sum(name.startswith("fixture-") for name in CASES) == 11
    assert sum(name.startswith("reference-") for name in CASES) == 16
