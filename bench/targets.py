"""The processes the benchmarks compare: fake upstream, service, bare relay, lightspeed-stack."""

from __future__ import annotations

from pathlib import Path

from bench.paths import LIGHTSPEED_VENV, REPO
from bench.procs import Server, free_port, python, start_server

STREAMING_QUERY = "/v1/streaming_query"


def start_upstream(log_dir: Path) -> Server:
    """The fake Agents API (bench/upstream.py)."""
    port = free_port()
    argv = [python(), "-m", "bench.upstream", "--port", str(port)]
    return start_server("upstream", argv, port, log_dir=log_dir)


def start_service(
    upstream: Server, log_dir: Path, *, name: str = "service", **settings: str
) -> Server:
    """`python -m service` on the Agents API of `upstream`; `settings` are extra env variables.

    `LLAMA_STACK_API="responses"` in `settings` puts it on the Responses API (the default).
    """
    port = free_port()
    env = {
        "LLAMA_STACK_BASE_URL": upstream.url,
        "LLAMA_STACK_API": "agents",
        "DEFAULT_MODEL": "bench/fake-model",
        "LOG_FORMAT": "json",
        "MAX_CONCURRENT_STREAMS": "100000",
        **settings,
    }
    argv = [python(), "-m", "service", "--host", "127.0.0.1", "--port", str(port)]
    return start_server(name, argv, port, env=env, log_dir=log_dir)


def start_relay(
    upstream: Server, log_dir: Path, *, api: str = "agents", name: str = "relay"
) -> Server:
    """The bare aiohttp relay (bench/relay.py) on the `api` of `upstream`: the floor."""
    port = free_port()
    argv = [python(), "-m", "bench.relay", "--port", str(port), "--upstream", upstream.url]
    return start_server(name, [*argv, "--api", api], port, log_dir=log_dir)


def lightspeed_python() -> Path | None:
    """The lightspeed venv's interpreter, or None when it is not built."""
    candidate = LIGHTSPEED_VENV / "bin" / "python"
    marker = LIGHTSPEED_VENV / ".oracle-venv-complete"
    return candidate if candidate.exists() and marker.exists() else None


def lightspeed_missing() -> str:
    """Why lightspeed-stack cannot be started (empty when it can)."""
    if lightspeed_python() is None:
        return (
            f"{LIGHTSPEED_VENV.name} is not built "
            f"(`tests/oracle/make_venv.sh {LIGHTSPEED_VENV.name} --full`, `make bench-venv`)"
        )
    return ""


def start_lightspeed(upstream: Server, log_dir: Path) -> Server:
    """lightspeed-stack 0.1.3's FastAPI app under uvicorn (bench/lightspeed_server.py)."""
    interpreter = lightspeed_python()
    if interpreter is None:
        raise RuntimeError(lightspeed_missing())
    port = free_port()
    script = REPO / "bench" / "lightspeed_server.py"
    argv = [str(interpreter), str(script), "--port", str(port), "--upstream", upstream.url]
    return start_server(
        "lightspeed", argv, port, env={"PYTHONPATH": ""}, log_dir=log_dir, timeout=120
    )
