"""The README's two set-up commands exist in the Makefile and run what the README says."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.paths import REPO


def dry_run(target: str) -> list[str]:
    """Return the commands `make -n TARGET` would run, as lines (outside any running make)."""
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", target, "PYTEST_ARGS=-q"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.splitlines()


@pytest.mark.parametrize(
    ("target", "last_command"),
    [
        ("run", ".venv/bin/python -m service "),
        ("test", ".venv/bin/python -m pytest -q"),
    ],
)
def test_the_set_up_targets_end_in_the_command_the_readme_promises(target, last_command):
    assert dry_run(target)[-1] == last_command


def test_make_test_builds_what_the_suite_needs_first():
    commands = "\n".join(dry_run("test"))
    for step in ("make_venv.sh", "make_release_venv.sh", "npm-ci.sh tests/clients", "install.sh"):
        assert step in commands
