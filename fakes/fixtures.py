"""Where the recorded wire bytes live: the shared llama-stack captures and the repository's own."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))
AGENTS_FIXTURES = SHARED / "fixtures" / "llama-stack" / "agents-0.2.23"
RESPONSES_FIXTURES = SHARED / "fixtures" / "llama-stack" / "responses-0.7.3"
OGX_FIXTURES = REPO / "tests" / "fixtures" / "ogx-1.5"
"""Captures of a real OGX 1.5 server driven by the scripted fake model (see its README)."""


def capture_frames(path: Path) -> list[bytes]:
    """A capture's `data:` frames, each with its blank line: one upstream write each."""
    return [frame + b"\n\n" for frame in path.read_bytes().split(b"\n\n") if frame.strip()]


def capture_events(path: Path) -> list[dict[str, Any]]:
    """A capture's events (Agents chunks or Responses stream events) as decoded JSON."""
    return [json.loads(frame.decode().removeprefix("data: ")) for frame in capture_frames(path)]
