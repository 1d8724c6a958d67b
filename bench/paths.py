"""Where the benchmarks find the repository, the shared fixtures and the peer environments."""

from __future__ import annotations

import os
from pathlib import Path

from fakes.fixtures import AGENTS_FIXTURES, OGX_FIXTURES, REPO, RESPONSES_FIXTURES

__all__ = [
    "AGENTS_FIXTURES",
    "ARTIFACTS",
    "LIGHTSPEED_07_VENV",
    "LIGHTSPEED_VENV",
    "OGX_FIXTURES",
    "ORACLE_SCRIPT",
    "ORACLE_VENV",
    "REPO",
    "RESPONSES_FIXTURES",
]
ORACLE_VENV = Path(os.environ.get("BENCH_ORACLE_VENV", REPO / ".venv-oracle"))
"""lightspeed-stack 0.1.3 without llama-stack (tests/oracle/make_venv.sh): frame building."""
LIGHTSPEED_VENV = Path(os.environ.get("BENCH_LIGHTSPEED_VENV", REPO / ".venv-bench-lightspeed"))
"""lightspeed-stack 0.1.3 with all its dependencies (make_venv.sh --full): the server itself."""
LIGHTSPEED_07_VENV = Path(os.environ.get("BENCH_LIGHTSPEED_07_VENV", REPO / ".venv-oracle-0.7.1"))
"""lightspeed-stack 0.7.1 on OGX 1.2.5's client (`make oracle`): the 0.7.1 oracle's venv."""
ORACLE_SCRIPT = REPO / "tests" / "oracle" / "lightspeed_oracle.py"
ARTIFACTS = REPO / "artifacts" / "bench"
