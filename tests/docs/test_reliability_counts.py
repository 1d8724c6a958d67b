"""docs/reliability.md: the fault matrix's test count and format list are the test's own."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import entry_points

from formatters.base import ENTRY_POINT_GROUP
from service.streams.registry import BUILTIN_DISTRIBUTION
from tests.paths import REPO
from tests.service import test_fault_matrix

RELIABILITY = REPO / "docs/reliability.md"
MATRIX = "tests/service/test_fault_matrix.py"
PLUGIN = "shout"
"""The test plugin's format (tests/plugins), installed by `make fault-matrix` and `make test`."""


def matrix_size(formats: int) -> int:
    """Count the fault matrix's tests as pytest collects them, with `formats` formats installed."""
    total = 0
    for name, test in vars(test_fault_matrix).items():
        if not name.startswith("test_") or not callable(test):
            continue
        size = 1
        for mark in getattr(test, "pytestmark", []):
            if mark.name == "parametrize":
                argnames, argvalues = mark.args[0], mark.args[1]
                size *= formats if argnames == "format_name" else len(argvalues)
        total += size
    return total


def builtin_formats() -> list[str]:
    return sorted(
        ep.load().name
        for ep in entry_points(group=ENTRY_POINT_GROUP)
        if ep.dist is not None and ep.dist.name == BUILTIN_DISTRIBUTION
    )


def stated() -> tuple[int, list[str]]:
    """Return the count and the formats the page states for `make fault-matrix`."""
    text = " ".join(RELIABILITY.read_text().split())
    count = re.search(r"`make fault-matrix` runs (\d+) tests", text)
    formats = re.search(r"Formats: (.+?), and the test plugin `(\w[\w-]*)`\.", text)
    assert count is not None and formats is not None, "the page no longer states them"
    return int(count[1]), [*re.findall(r"`([^`]+)`", formats[1]), formats[2]]


def test_the_page_lists_every_builtin_format_and_the_plugin():
    assert stated()[1] == [*builtin_formats(), PLUGIN]


def test_the_page_states_the_matrix_s_own_count():
    count, formats = stated()
    assert count == matrix_size(len(formats)), (
        f"docs/reliability.md states {count} tests; {MATRIX} has {matrix_size(len(formats))}"
    )


def test_the_count_is_what_pytest_collects():
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", MATRIX],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    items = [line for line in collected.splitlines() if line.startswith(f"{MATRIX}::")]
    assert len(items) == matrix_size(len(test_fault_matrix.FORMATS))
