"""Print the README's settings table, generated from the settings model's fields.

One row per field of `service.settings.Settings`: the environment variable (the field's name in
upper case), its `Field(description=...)`, its default. `--write` puts the table into README.md
between its `settings-table` markers instead; tests/docs/test_readme_settings.py fails when the
README's table is not what this prints.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pydantic.fields import FieldInfo  # noqa: E402

from service.settings import Settings  # noqa: E402

README = REPO / "README.md"
# pymdownx.snippets section markers: docs/settings.md includes the same table from README.md.
START = "<!-- --8<-- [start:settings-table] -->"
END = "<!-- --8<-- [end:settings-table] -->"


def render_default(value: Any) -> str:
    """Return a default as the table shows it: `unset` for None, `none` for an empty list."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if isinstance(value, list):
        return f"`{','.join(str(item) for item in value)}`" if value else "none"
    return f"`{value}`"


def row(name: str, field: FieldInfo) -> str:
    """Return the table row of one settings field."""
    if not field.description:
        raise ValueError(f"settings field {name!r} has no description")
    description = field.description.replace("|", "\\|")
    default = render_default(field.get_default(call_default_factory=True))
    return f"| `{name.upper()}` | {description} | {default} |"


def settings_table() -> str:
    """Return the Markdown table of every settings field, in the model's order."""
    lines = ["| variable | meaning | default |", "|---|---|---|"]
    lines += [row(name, field) for name, field in Settings.model_fields.items()]
    return "\n".join(lines) + "\n"


def readme_table(text: str) -> str:
    """Return what README text holds between the settings-table markers."""
    if START not in text or END not in text:
        raise ValueError("README.md has no settings-table markers")
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write_readme() -> None:
    """Replace the README's table with the generated one."""
    text = README.read_text()
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    README.write_text(f"{head}{START}\n{settings_table()}{END}{tail}")


def main(argv: list[str]) -> int:
    """Print the table, or with `--write` update README.md."""
    if argv == ["--write"]:
        write_readme()
    else:
        sys.stdout.write(settings_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
