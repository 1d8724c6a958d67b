"""Differential test: our normalizer + `lightspeed-0.1` formatter vs lightspeed-stack 0.1.3 itself.

The oracle (`lightspeed_oracle.py`) runs lightspeed-stack 0.1.3's real streaming handler in its
own virtual environment (`make_venv.sh`, built by `make test`); every case's chunks go through
both, and the bodies are compared byte for byte.
"""

from __future__ import annotations

from typing import Any

import pytest

from formatters.lightspeed_01 import Lightspeed01Formatter
from tests.oracle.harness import DOCUMENT_DIFFERENCES, assert_same_body, cases, ours, run_oracle
from tests.paths import REPO

pytestmark = pytest.mark.oracle

ORACLE_PYTHON = REPO / ".venv-oracle" / "bin" / "python"

DELIBERATE = {
    **DOCUMENT_DIFFERENCES,
    # a lone content item (not in a list) is shown as a one-item list
    "content-single-item-not-list": (
        "response:TextContentItem(text='solo', type='text')",
        "response:[TextContentItem(text='solo', type='text')]",
    ),
}


CASES = cases()


@pytest.fixture(scope="module")
def oracle() -> dict[str, dict[str, Any]]:
    return run_oracle(ORACLE_PYTHON, ["lightspeed_oracle.py"], CASES, "tests/oracle/make_venv.sh")


@pytest.mark.parametrize("name", list(CASES))
async def test_frames_match_lightspeed_stack(name: str, oracle: dict[str, dict[str, Any]]) -> None:
    expected, mine = oracle[name], await ours(CASES[name], Lightspeed01Formatter())
    assert_same_body(name, expected, mine, DELIBERATE)


def test_the_oracle_covers_the_fixtures_and_the_reference() -> None:
    assert sum(name.startswith("fixture-") for name in CASES) == 11
    assert sum(name.startswith("reference-") for name in CASES) == 16
    assert sum(name.startswith("random-") for name in CASES) == 60
