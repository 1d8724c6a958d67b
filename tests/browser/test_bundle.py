"""The chat page's bundle in service/static is what web/ builds, and web/ type-checks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from service.http.web_ui import STATIC_DIR
from tests.browser.conftest import WEB

pytestmark = pytest.mark.node


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root`, by relative path."""
    return {
        str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def test_the_committed_bundle_is_what_web_builds(web_packages, tmp_path):
    built = tmp_path / "static"
    run = subprocess.run(
        ["node", "build.mjs", str(built)], cwd=WEB, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    fresh, committed = tree(built), tree(STATIC_DIR)
    assert sorted(fresh) == sorted(committed), "rebuild it: cd web && npm run build"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert stale == [], "rebuild it: cd web && npm run build"


def test_the_page_sources_type_check(web_packages):
    run = subprocess.run(
        ["node_modules/.bin/tsc", "--noEmit"], cwd=WEB, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
