"""Where the shared fixtures and reference live (../shared beside the repository)."""

from __future__ import annotations

from fakes.fixtures import AGENTS_FIXTURES, OGX_FIXTURES, REPO, RESPONSES_FIXTURES, SHARED

__all__ = ["AGENTS_FIXTURES", "OGX_FIXTURES", "REFERENCE", "REPO", "RESPONSES_FIXTURES", "SHARED"]

REFERENCE = SHARED / "reference" / "lightspeed-stream.md"
