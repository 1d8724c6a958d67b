"""Where the shared fixtures and reference live (../shared beside the repository)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))
AGENTS_FIXTURES = SHARED / "fixtures" / "llama-stack" / "agents-0.2.23"
RESPONSES_FIXTURES = SHARED / "fixtures" / "llama-stack" / "responses-0.7.3"
REFERENCE = SHARED / "reference" / "lightspeed-stream.md"
