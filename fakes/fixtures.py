"""Where the recorded wire bytes live: the shared llama-stack captures and the repository's own."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))
AGENTS_FIXTURES = SHARED / "fixtures" / "llama-stack" / "agents-0.2.23"
RESPONSES_FIXTURES = SHARED / "fixtures" / "llama-stack" / "responses-0.7.3"
OGX_FIXTURES = REPO / "tests" / "fixtures" / "ogx-1.5"
"""Captures of a real OGX 1.5 server driven by the scripted fake model (see its README)."""
