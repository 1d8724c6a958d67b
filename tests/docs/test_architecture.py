"""docs/architecture.md: its tree has every folder, and every `module:function` it names exists."""

from __future__ import annotations

import importlib
import re

import pytest

from tests.paths import REPO

ARCHITECTURE = REPO / "docs/architecture.md"
NAMED = re.compile(r"`((?:service|formatters)(?:\.\w+)*):(\w+(?:\.\w+)*)`")


def named() -> list[tuple[str, str]]:
    """Return every (module, qualified name) the page names as `module:function`."""
    return NAMED.findall(" ".join(ARCHITECTURE.read_text().split()))


def test_the_flow_names_its_functions_module_by_module():
    assert len(named()) >= 30
    assert ("service.http.routes", "streaming_query") in named()


@pytest.mark.parametrize(("module", "qualname"), sorted(set(named())))
def test_every_named_function_exists(module, qualname):
    found: object = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    assert callable(found), f"{module}:{qualname} is not a function or class"


def folders() -> set[str]:
    """Return the folders of service/ and formatters/: the packages, and the chat page's."""
    packages = {
        init.parent.relative_to(REPO).as_posix() + "/"
        for top in ("service", "formatters")
        for init in (REPO / top).rglob("__init__.py")
    }
    return packages | {"service/static/"}


def test_the_tree_has_one_row_per_folder():
    rows = re.findall(r"^\| `([\w/]+/)` \|", ARCHITECTURE.read_text(), flags=re.MULTILINE)
    assert sorted(rows) == sorted(folders())
