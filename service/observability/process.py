"""Which worker process this is (`--workers N`), and where their shared metrics live."""

from __future__ import annotations

import os

WORKER_ENV = "AGENT_STREAM_GATEWAY_WORKER"
"""Set in each worker's environment to its number (0 to N-1); unset in a single process."""

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""Where the workers' metric files go (prometheus-client's multiprocess mode)."""


def worker_number() -> int | None:
    """Return this process's worker number, or None when it is the only process."""
    value = os.environ.get(WORKER_ENV)
    return int(value) if value is not None and value.isdigit() else None
