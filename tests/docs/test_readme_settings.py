"""README.md: its settings table is the one generated from the settings model, its formats table
lists every built-in format, and its links lead to files that exist."""

from __future__ import annotations

import importlib.util
import re
from importlib.metadata import entry_points
from types import ModuleType

import pytest
from pydantic.fields import FieldInfo

from formatters.base import ENTRY_POINT_GROUP
from service.streams.registry import BUILTIN_DISTRIBUTION
from tests.paths import REPO

README = REPO / "README.md"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "settings_table", REPO / "scripts/settings_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


table = load_script()


def test_the_readme_settings_table_is_the_generated_one():
    assert table.readme_table(README.read_text()) == table.settings_table(), (
        "README's settings table is stale: run `.venv/bin/python scripts/settings_table.py --write`"
    )


def test_the_table_has_one_row_per_settings_field_in_order():
    rows = table.settings_table().splitlines()[2:]
    names = [row.split(" | ")[0].removeprefix("| `").removesuffix("`") for row in rows]
    assert names[:4] == ["HOST", "PORT", "LLAMA_STACK_BASE_URL", "LLAMA_STACK_API_KEY"]
    assert names == [name.upper() for name in table.Settings.model_fields]


def test_rows_show_the_description_and_the_models_default():
    fields = table.Settings.model_fields
    assert table.row("heartbeat_interval", fields["heartbeat_interval"]) == (
        "| `HEARTBEAT_INTERVAL` | Keep-alive after this much silence. | `5` |"
    )
    assert table.row("auth_jwt_algorithms", fields["auth_jwt_algorithms"]) == (
        "| `AUTH_JWT_ALGORITHMS` | jwt: accepted signature algorithms (public-key ones only)."
        " | `RS256,RS384,RS512,PS256,ES256,ES384,EdDSA` |"
    )


@pytest.mark.parametrize(
    ("default", "shown"),
    [
        (None, "unset"),
        ([], "none"),
        (["a", "b"], "`a,b`"),
        (False, "`false`"),
        (0.05, "`0.05`"),
        (600.0, "`600`"),
        (1048576, "`1048576`"),
        ("0.0.0.0", "`0.0.0.0`"),
    ],
)
def test_defaults_render_as_the_table_shows_them(default, shown):
    assert table.render_default(default) == shown


def test_a_field_without_a_description_is_refused():

    with pytest.raises(ValueError, match="'new_setting' has no description"):
        table.row("new_setting", FieldInfo(default=1))


def test_a_pipe_in_a_description_does_not_split_the_row():

    assert (
        table.row("x", FieldInfo(default=None, description="a | b")) == "| `X` | a \\| b | unset |"
    )


def test_a_changed_table_is_noticed():
    text = README.read_text()
    changed = text.replace(
        "| `HEARTBEAT_INTERVAL` | Keep-alive after this much silence. | `5` |",
        "| `HEARTBEAT_INTERVAL` | Keep-alive after this much silence. | `6` |",
    )
    assert changed != text
    assert table.readme_table(changed) != table.settings_table()


def readme_section(title: str) -> str:
    return README.read_text().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_formats_table_lists_every_builtin_format_with_its_aliases():
    builtin = {
        ep.load()
        for ep in entry_points(group=ENTRY_POINT_GROUP)
        if ep.dist is not None and ep.dist.name == BUILTIN_DISTRIBUTION
    }
    expected = sorted((f.name, ", ".join(f"`{a}`" for a in f.aliases)) for f in builtin)
    rows = [line for line in readme_section("Formats").splitlines() if line.startswith("| `")]
    cells = [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]
    assert cells[0][0] == "`patternfly`", "the default format comes first"
    assert sorted((row[0].strip("`"), row[1]) for row in cells) == expected


def test_the_readme_keeps_the_two_set_up_commands_first():
    lines = README.read_text().splitlines()
    assert lines[2:6] == [
        "```sh",
        "make run    # builds .venv with Python 3.12, installs, serves the demo agent on http://0.0.0.0:8080",
        "make test   # builds .venv (and the lightspeed-stack oracle env), runs the test suite",
        "```",
    ]


def test_the_readme_is_a_map_under_300_lines():
    assert len(README.read_text().splitlines()) < 300


def test_the_readme_links_lead_to_files_that_exist():
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text())
    local = [t for t in targets if "://" not in t and not t.startswith("../shared/")]
    assert "docs/architecture.md" in local
    assert "bench/README.md" in local
    assert [t for t in local if not (REPO / t).is_file()] == []


def slug(heading: str) -> str:
    text = re.sub(r"[^\w\s-]", "", heading.replace("`", "")).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def test_the_readme_anchors_into_the_docs_name_headings_there():
    anchored = re.findall(r"\]\((docs/[^)#]+)#([^)]+)\)", README.read_text())
    assert ("docs/reliability.md", "auth") in anchored
    for path, anchor in anchored:
        headings = re.findall(r"^#+ (.+)$", (REPO / path).read_text(), flags=re.MULTILINE)
        assert anchor in {slug(heading) for heading in headings}, (path, anchor)


def test_every_docs_page_is_linked_from_the_readme_or_the_site_index():
    linked = set(re.findall(r"\]\(docs/([^)#]+)", README.read_text()))
    linked |= set(re.findall(r"\]\(([^)#/]+\.md)", (REPO / "docs/index.md").read_text()))
    pages = {page.name for page in (REPO / "docs").glob("*.md")} - {"index.md"}
    assert pages - linked == set()


def test_the_contract_is_linked():
    assert "[`../shared/CONTRACT.md`](../shared/CONTRACT.md)" in README.read_text()
