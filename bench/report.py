"""Benchmark results: tables, headline ratios against targets, and their Markdown rendering."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Context:
    """How this run goes: quick (smoke) or full, and where logs and artifacts go."""

    quick: bool
    out: Path

    def pick(self, quick: object, full: object) -> object:
        """Return `quick` in a smoke run, else `full`."""
        return quick if self.quick else full


@dataclass
class Table:
    """One table of figures."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([str(cell) for cell in cells])

    def markdown(self) -> str:
        lines = [f"#### {self.title}", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "---|" * len(self.columns))
        lines.extend("| " + " | ".join(row) + " |" for row in self.rows)
        if self.notes:
            lines.append("")
            lines.extend(f"- {note}" for note in self.notes)
        return "\n".join(lines)


@dataclass
class Headline:
    """One headline figure: a ratio against a peer measured in the same run, and its target."""

    benchmark: str
    figure: str
    value: str
    target: str
    met: bool | None = None

    def verdict(self) -> str:
        return {True: "met", False: "missed", None: "n/a"}[self.met]


@dataclass
class Result:
    """What one benchmark produced."""

    name: str
    headlines: list[Headline] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


def summary(results: list[Result]) -> Table:
    """The headline table: every benchmark's ratios and whether they meet their targets."""
    table = Table("Headline", ["benchmark", "figure", "measured", "target", "verdict"])
    for result in results:
        if result.error is not None:
            table.add(result.name, "FAILED", result.error.splitlines()[-1][:120], "", "")
        for h in result.headlines:
            table.add(h.benchmark, h.figure, h.value, h.target, h.verdict())
    return table


def render(results: list[Result], header: str) -> str:
    """The whole report as Markdown."""
    parts = [header, "", summary(results).markdown()]
    for result in results:
        for table in result.tables:
            parts += ["", table.markdown()]
    return "\n".join(parts) + "\n"


def save(results: list[Result], markdown: str, out: Path) -> None:
    """Write results.md and results.json under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(markdown)
    (out / "results.json").write_text(json.dumps([asdict(r) for r in results], indent=1))


def ratio(ours: float, peer: float) -> str:
    """`ours / peer` as `1.23x`."""
    return f"{ours / peer:.2f}x" if peer else "n/a"


def num(value: float, digits: int = 3) -> str:
    """A number with `digits` significant digits, thousands separated."""
    if value == 0:
        return "0"
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"
