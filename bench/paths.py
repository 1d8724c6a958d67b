"""Where the benchmarks find the repository, the shared fixtures and the peer environments."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))
AGENTS_FIXTURES = SHARED / "fixtures" / "llama-stack" / "agents-0.2.23"
RESPONSES_FIXTURES = SHARED / "fixtures" / "llama-stack" / "responses-0.7.3"
ORACLE_VENV = Path(os.environ.get("BENCH_ORACLE_VENV", REPO / ".venv-oracle"))
"""lightspeed-stack 0.1.3 without llama-stack (tests/oracle/make_venv.sh): frame building."""
LIGHTSPEED_VENV = Path(os.environ.get("BENCH_LIGHTSPEED_VENV", REPO / ".venv-bench-lightspeed"))
"""lightspeed-stack 0.1.3 with all its dependencies (make_venv.sh --full): the server itself."""
ORACLE_SCRIPT = REPO / "tests" / "oracle" / "lightspeed_oracle.py"
ARTIFACTS = REPO / "artifacts" / "bench"
