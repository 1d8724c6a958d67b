"""`--workers N`: N processes on one port (SO_REUSEPORT), one event loop each, drained together."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from types import FrameType

from prometheus_client import multiprocess

from service.observability.process import MULTIPROC_ENV, WORKER_ENV


def refusal(workers: int, redis_url: str | None) -> str | None:
    """Why `workers` processes cannot run with these settings, in plain words, or None."""
    if workers < 1:
        return f"--workers must be 1 or more, not {workers}."
    if workers > 1 and not redis_url:
        return (
            f"--workers {workers} needs REDIS_URL: resumable streams, interrupts, conversation "
            "owners and tool approvals must be shared between the worker processes, and only "
            "Redis shares them. Set REDIS_URL, or run one worker (--workers 1, the default)."
        )
    return None


def run_workers(argv: list[str], workers: int) -> int:
    """Run `python -m service argv` as `workers` processes until they all exit; SIGTERM drains all.

    SIGTERM or SIGINT is passed on to every worker (each drains its own streams); a worker that
    exits on its own stops the others. Returns the first non-zero exit code, else 0.
    """
    directory = tempfile.mkdtemp(prefix="agent-stream-gateway-metrics-")
    env = {**os.environ, MULTIPROC_ENV: directory}
    children = [
        subprocess.Popen([sys.executable, "-m", "service", *argv], env={**env, WORKER_ENV: str(n)})
        for n in range(workers)
    ]
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    codes: list[int] = []
    try:
        alive = {child.pid: child for child in children}
        while alive:
            pid, status = os.wait()
            child = alive.pop(pid, None)
            if child is None:
                continue
            child.returncode = os.waitstatus_to_exitcode(status)
            codes.append(child.returncode)
            multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
            if not stopping:
                stop(signal.SIGTERM, None)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        shutil.rmtree(directory, ignore_errors=True)
    return next((code for code in codes if code not in (0, -signal.SIGTERM)), 0)
