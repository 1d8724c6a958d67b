"""The processes the benchmarks compare: fake upstream, service, bare relay, lightspeed-stack."""

from __future__ import annotations

from pathlib import Path

from bench.paths import LIGHTSPEED_07_VENV, LIGHTSPEED_VENV, REPO
from bench.procs import Server, free_port, python, start_server

STREAMING_QUERY = "/v1/streaming_query"


OGX_VERSION = "1.2.5"
"""The OGX version lightspeed-stack 0.7.1 pins: the version the fake reports in front of it."""


def start_upstream(log_dir: Path, version: str = "0.7.3") -> Server:
    """The fake llama-stack, both APIs (bench/upstream.py), reporting server `version`."""
    port = free_port()
    argv = [python(), "-m", "bench.upstream", "--port", str(port), "--version", version]
    return start_server("upstream", argv, port, log_dir=log_dir)


def start_service(
    upstream: Server,
    log_dir: Path,
    *,
    name: str = "service",
    args: tuple[str, ...] = (),
    **settings: str,
) -> Server:
    """`python -m service [args]` on the Agents API of `upstream`; `settings`: extra env variables.

    `LLAMA_STACK_API="responses"` in `settings` puts it on the Responses API (the default).
    """
    port = free_port()
    argv = [python(), "-m", "service", "--host", "127.0.0.1", "--port", str(port), *args]
    return start_server(name, argv, port, env=service_env(upstream, **settings), log_dir=log_dir)


def service_env(upstream: Server, **settings: str) -> dict[str, str]:
    """The service's settings in front of `upstream` (Agents API unless `settings` say)."""
    return {
        "LLAMA_STACK_BASE_URL": upstream.url,
        "LLAMA_STACK_API": "agents",
        "DEFAULT_MODEL": "bench/fake-model",
        "LOG_FORMAT": "json",
        "MAX_CONCURRENT_STREAMS": "100000",
        **settings,
    }


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


def lightspeed_07_missing() -> str:
    """Why lightspeed-stack 0.7.1 cannot be started (empty when it can)."""
    if not (LIGHTSPEED_07_VENV / "bin" / "python").exists():
        return (
            f"{LIGHTSPEED_07_VENV.name} is not built "
            "(`tests/oracle/make_release_venv.sh 0.7.1`, `make oracle`)"
        )
    return ""


def start_lightspeed_07(
    upstream: Server, log_dir: Path, *, name: str = "lightspeed-0.7.1"
) -> Server:
    """lightspeed-stack 0.7.1's whole app (tests/oracle/lightspeed_app.py, the oracle's venv)."""
    missing = lightspeed_07_missing()
    if missing:
        raise RuntimeError(missing)
    port = free_port()
    argv = [
        str(LIGHTSPEED_07_VENV / "bin" / "python"),
        str(REPO / "tests" / "oracle" / "lightspeed_app.py"),
        *("--upstream", upstream.url, "--port", str(port), "--model", "bench/fake-model"),
    ]
    return start_server(name, argv, port, env={"PYTHONPATH": ""}, log_dir=log_dir, timeout=120)
