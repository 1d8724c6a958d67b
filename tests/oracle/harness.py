"""What the differential tests share: the cases, our side of a case, and running an oracle."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import pytest

from fakes.agents_upstream import fixture_chunks
from formatters.base import Formatter
from formatters.events import ErrorEvent, Event
from service.streams.pipeline import run_stream
from service.upstream import Turn
from service.upstream.agents_normalizer import normalize_chunk
from tests.oracle.random_turns import random_cases
from tests.paths import AGENTS_FIXTURES
from tests.test_reference_examples import EXAMPLES

CONVERSATION = "c0ffee00-0000-0000-0000-000000000000"
RANDOM_SEED, RANDOM_COUNT = 17, 60
END_PREFIX = 'data: {"event": "end", '
ORACLE_DIR = Path(__file__).parent


def cases() -> dict[str, dict[str, Any]]:
    """Every Agents fixture, reference example and hand-written case, and seeded random turns."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(AGENTS_FIXTURES.glob("*.sse")):
        found[f"fixture-{path.stem}"] = {"chunks": fixture_chunks(path)}
    for name, chunks, _ in EXAMPLES:
        found[f"reference-{name}"] = {"chunks": chunks}
    for path in sorted((ORACLE_DIR / "cases").glob("*.json")):
        found[path.stem] = json.loads(path.read_text())
    found.update(random_cases(RANDOM_SEED, RANDOM_COUNT))
    for case in found.values():
        case["conversation_id"] = CONVERSATION
    return found


# Where every lightspeed dialect differs on purpose (docs/formats.md, "where it differs from
# lightspeed-stack"): the exact edit that turns lightspeed-stack's body into ours.
DOCUMENT_DIFFERENCES = {
    # a document repeated later without a title keeps its earlier complete entry
    "ks-dup-later-incomplete": (
        '"referenced_documents": [{"doc_url": "u2"',
        '"referenced_documents": [{"doc_url": "u1", "doc_title": "T1"}, {"doc_url": "u2"',
    ),
    # a document whose url or title is not a string is not a reference
    "ks-edge-docs": (', {"doc_url": null, "doc_title": 123}', ""),
}


def assert_same_body(
    name: str, expected: dict[str, Any], mine: str, deliberate: dict[str, tuple[str, str]]
) -> None:
    """Our body is lightspeed-stack's (after the deliberate edits), or extends an aborted one."""
    if expected["status"] == 0:
        theirs = expected["body"]
        if name in deliberate:
            before, after = deliberate[name]
            assert before in theirs
            theirs = theirs.replace(before, after)
        assert mine == theirs
    else:
        # lightspeed-stack aborted mid-stream: we send the same frames up to that point, then
        # finish the stream (with an error frame where there was an error) and `end`.
        assert expected["status"] == 3, expected["messages"]
        assert mine.startswith(expected["body"])
        assert mine.rsplit("\n\n", 2)[-2].startswith(END_PREFIX)


def run_oracle(
    python: Path, script: list[str], cases: dict[str, dict[str, Any]], build: str
) -> dict[str, dict[str, Any]]:
    """Run every case through an oracle (`script`: its file and options) in one process.

    Returns name -> {body, status, messages}.
    """
    if not python.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the oracle environment {python.parent.parent} is missing: run {build}")
        pytest.skip(f"no {python.parent.parent.name}: run `make oracle` (make test builds it)")
    names = list(cases)
    completed = subprocess.run(
        [str(python), str(ORACLE_DIR / script[0]), *script[1:], "--batch"],
        input=json.dumps([cases[name] for name in names]),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return dict(zip(names, json.loads(completed.stdout), strict=True))


async def ours(case: dict[str, Any], formatter: Formatter) -> str:
    """Our body for a case: its chunks normalized, up to an error, through the pipeline."""
    batches = (normalize_chunk(index, chunk) for index, chunk in enumerate(case["chunks"]))
    return await piped(batches, case["conversation_id"], formatter)


async def piped(batches: Iterable[list[Event]], conversation_id: str, formatter: Formatter) -> str:
    """The body the pipeline sends for these events (one list per upstream chunk), up to an error."""

    async def events() -> AsyncIterator[Event]:
        for produced in batches:
            for event in produced:
                yield event
            if any(isinstance(event, ErrorEvent) for event in produced):
                return

    body = bytearray()

    async def write(data: bytes) -> None:
        body.extend(data)

    turn = Turn(conversation_id=conversation_id, events=events())
    await run_stream(turn, formatter, write, heartbeat_interval=60, stream_timeout=60)
    return body.decode()
