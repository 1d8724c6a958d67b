"""deploy/image/requirements.py: the image's dependency layer installs what setup.cfg declares."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest
from packaging.requirements import Requirement

from tests.paths import REPO

SCRIPT = REPO / "deploy" / "image" / "requirements.py"


def listed(*extras: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(REPO / "setup.cfg"), *extras],
        capture_output=True,
        text=True,
        check=True,
    )
    return {str(Requirement(line)) for line in result.stdout.splitlines()}


def installed(extra: str | None) -> set[str]:
    found = set()
    for text in importlib.metadata.requires("agent-stream-gateway") or []:
        requirement = Requirement(text)
        marker = str(requirement.marker) if requirement.marker else ""
        if (extra is None and not marker) or marker == f'extra == "{extra}"':
            requirement.marker = None
            found.add(str(requirement))
    return found


def test_it_lists_the_runtime_requirements_pip_installs():
    assert listed() == installed(None), "installed metadata is stale? `make test` reinstalls"


def test_an_extra_adds_its_requirements():
    assert listed("otel") == installed(None) | installed("otel")
    assert installed("otel")


def test_an_empty_extras_argument_is_no_extra():
    assert listed("") == listed()


def test_an_unknown_extra_is_refused():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(REPO / "setup.cfg"), "nope"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "setup.cfg has no extra named 'nope'"


@pytest.mark.parametrize("extras", ["otel,test", "otel test"])
def test_extras_are_separated_by_commas_or_spaces(extras):
    assert listed(extras) == installed(None) | installed("otel") | installed("test")
