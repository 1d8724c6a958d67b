"""Every example of the lightspeed wire reference (§3.5), chunk by chunk, byte for byte."""

from __future__ import annotations

import json
import re

import pytest

from formatters.lightspeed_01 import Lightspeed01Formatter
from service.upstream.agents_normalizer import normalize_chunk
from tests.formatters.cases import texts
from tests.paths import REFERENCE

_EXAMPLE = re.compile(
    r"\*\*(?P<name>E\d+)[^*]*\*\*\s*```json\n(?P<chunks>.*?)```\s*→\s*```text\n(?P<frames>.*?)```",
    re.DOTALL,
)


def reference_examples() -> list[tuple[str, list[object], str]]:
    text = REFERENCE.read_text()
    section = text[text.index("### 3.5") : text.index("## 4.")]
    examples = []
    for match in _EXAMPLE.finditer(section):
        chunks = [json.loads(line) for line in match["chunks"].splitlines() if line.strip()]
        frames = "" if match["frames"].strip() == "(no frame)" else match["frames"]
        examples.append((match["name"], chunks, frames))
    return examples


EXAMPLES = reference_examples()


def test_reference_has_all_sixteen_examples() -> None:
    assert [name for name, _, _ in EXAMPLES] == [f"E{n}" for n in range(1, 17)]


@pytest.mark.parametrize(("name", "chunks", "expected"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_frames_match_the_reference(name: str, chunks: list[object], expected: str) -> None:
    formatter = Lightspeed01Formatter()
    frames = [
        frame
        for index, chunk in enumerate(chunks)
        for event in normalize_chunk(index, chunk)
        for frame in texts(formatter.format(event))
    ]
    assert "".join(frames) == expected
