"""Print the fault matrix measured by tests/service/test_fault_matrix.py as a Markdown table.

Reads artifacts/fault-matrix.json (written by the test run), writes artifacts/fault-matrix.md
and prints it: one row per case and upstream, every installed format folded into it (the
slowest time, the most leaked, how many formats answered the next request normally).
Run it with `make fault-matrix`, which runs the tests first.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "artifacts" / "fault-matrix.json"
TARGET = REPO / "artifacts" / "fault-matrix.md"


def _tail(summary: str) -> str:
    """Return the part of a frame summary from the first heartbeat or error on."""
    parts = summary.split(", ")
    for index, part in enumerate(parts):
        if part.startswith(("heartbeat", "error")):
            return ", ".join(parts[index:])
    return summary


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _sees(rows: list[dict[str, Any]], settings: dict[str, Any]) -> str:
    first = rows[0]
    case = first["case"]
    if first["sees"].startswith("503"):
        return f"`503` JSON `{first['detail']['detail']['response']}`, not a stream"
    if case.startswith("client disconnects"):
        ends = ", ".join(_distinct(row["detail"]["upstream"] for row in rows))
        return f"(client gone) upstream turn {ends} within one heartbeat"
    if case.startswith("slow client"):
        peak = max(row["detail"]["traced_peak_kib"] for row in rows) / 1024
        offered = first["detail"]["offered_bytes"] / 2**20
        return (
            f"(not reading) stream ended, `client stopped reading` logged; Python memory peak "
            f"{peak:.1f} MiB while {offered:.0f} MiB was offered"
        )
    tails = " / ".join(f"`{tail}`" for tail in _distinct(_tail(row["sees"]) for row in rows))
    return f"`200` stream, then {tails}: “{first['detail']['error']}”"


def _time(rows: list[dict[str, Any]]) -> str:
    slowest = max(row["seconds"] for row in rows)
    if rows[0]["case"].startswith("client disconnects"):
        return f"upstream cancelled {slowest:.2f} s after the close"
    if rows[0]["case"].startswith("slow client"):
        return f"{slowest:.2f} s to the end of the stream"
    return f"{slowest:.2f} s"


def render(document: dict[str, Any]) -> str:
    """Return the Markdown table (and its provenance) for a fault-matrix document."""
    settings = document["settings"]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in document["rows"]:
        groups.setdefault((row["case"], row["upstream"]), []).append(row)
    formats = document["formats"]
    lines = [
        f"Measured {document['generated']} with `{document['command']}` "
        f"(heartbeat {settings['heartbeat_interval']} s, stream timeout "
        f"{settings['stream_timeout']} s, write timeout {settings['write_timeout']} s); "
        f"formats: {', '.join(f'`{name}`' for name in formats)}. Terminal frames, from each "
        "formatter's own `format(EndEvent())`: "
        + ", ".join(f"{name} `{kind}`" for name, kind in document["terminal_frames"].items())
        + ". Times run from the request to the terminal frame.",
        "",
        "| case | upstream | what the client sees (every format) | time to terminal frame "
        "(slowest format) | leaked tasks / sockets | next request |",
        "|---|---|---|---|---|---|",
    ]
    for (case, upstream), rows in groups.items():
        tasks = max(row["leaked_tasks"] for row in rows)
        sockets = max(row["leaked_sockets"] for row in rows)
        served = sum(1 for row in rows if row["next_request_ok"])
        covered = sorted(row["format"] for row in rows)
        missing = "" if covered == sorted(formats) else f" (only {', '.join(covered)})"
        lines.append(
            f"| {case} | {upstream} | {_sees(rows, settings)}{missing} | {_time(rows)} | "
            f"{tasks} / {sockets} | normal in {served}/{len(rows)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Render artifacts/fault-matrix.json (or the file named) to Markdown; print and save it."""
    source = Path(argv[0]) if argv else SOURCE
    if not source.is_file():
        print(f"{source} is missing: run `make fault-matrix` (the tests write it)", file=sys.stderr)
        return 1
    table = render(json.loads(source.read_text()))
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(table)
    print(table, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
