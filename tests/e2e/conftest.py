"""Session fixtures of the e2e tier: the fake model, a real llama-stack or OGX server, our service.

Each release in E2E_LLAMA_STACK_VERSIONS (default `0.7.3,0.2.23,ogx-1.5.0,ogx-1.2.5`) runs from
the venv scripts/llama-stack-env.sh or scripts/ogx-env.sh builds (built on first use). Server logs go to files under the
session's tmp dir; a failed test shows their tails.
"""

from __future__ import annotations

import os
import socket
import string
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from service.http.app import ConfigurationError
from service.settings import McpServer, Settings, load_settings
from service.streams.registry import load_registry
from tests.clients.conftest import node  # noqa: F401  (the Node clients' fixture, for approvals)
from tests.conftest import MakeClient
from tests.e2e.processes import (
    Server,
    StartupFailed,
    free_port,
    read_announced_port,
    register_servers_for_reports,
    servers_for_reports,
    spawn,
    wait_healthy,
)
from tests.e2e.stacks import (
    MCP_LABEL,
    VERSIONS,
    StackVersion,
    create_vector_store,
    insert_rag_documents,
    register_mcp_toolgroup,
)
from tests.paths import REPO

HEALTH_TIMEOUT = float(os.environ.get("E2E_HEALTH_TIMEOUT", "180"))
INSTALL_TIMEOUT = 1200
FORMATS = ("lightspeed-0.1", "raw")
"""0.1.3's string tokens and shield verdicts, and the normalized events (`patternfly`, ours, is
read in the frontends' rules: tests/service/test_*_rules.py)."""


def selected_versions() -> list[str]:
    """The llama-stack versions to run, from E2E_LLAMA_STACK_VERSIONS (comma or space separated)."""
    names = os.environ.get("E2E_LLAMA_STACK_VERSIONS", ",".join(VERSIONS))
    versions = names.replace(",", " ").split()
    unknown = [name for name in versions if name not in VERSIONS]
    if unknown:
        raise pytest.UsageError(
            f"E2E_LLAMA_STACK_VERSIONS: unknown {unknown}; known {list(VERSIONS)}"
        )
    return versions


@dataclass
class LlamaStack:
    """A running llama-stack server with its MCP server and the resources set up on it."""

    version: StackVersion
    server: Server
    mcp: Server
    vector_store_id: str
    service_settings: dict[str, Any] = field(default_factory=dict)
    shield_settings: dict[str, Any] = field(default_factory=dict)
    missing_settings: list[str] = field(default_factory=list)
    guarded_settings: dict[str, Any] = field(default_factory=dict)
    """Settings whose MCP server needs approval for every call (`require_approval: always`)."""
    unguarded: str = ""
    """Why this server or service cannot guard a tool ("": it can)."""

    @property
    def url(self) -> str:
        """Base URL of the llama-stack server."""
        return self.server.url


@pytest.fixture(scope="session")
def e2e_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def fake_model(e2e_dir: Path) -> Iterator[Server]:
    """The scripted OpenAI-compatible model, in its own process."""
    log = e2e_dir / "fake-model.log"
    argv = [sys.executable, "-m", "tests.e2e.fake_model"]
    process = spawn(argv, log, cwd=REPO, pipe_stdout=True)
    server = Server("fake-model", process, 0, log)
    try:
        server.port = read_announced_port(process, log, timeout=30)
        register_servers_for_reports(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(
    scope="session",
    params=selected_versions(),
    ids=lambda name: name if name.startswith("ogx-") else f"llama-stack-{name}",
)
def llama_stack(
    request: pytest.FixtureRequest, fake_model: Server, e2e_dir: Path
) -> Iterator[LlamaStack]:
    """A real llama-stack server from PyPI, inference from the fake model, tools set up."""
    version = VERSIONS[request.param]
    _ensure_venv(version)
    started: list[Server] = []
    failure = ""
    try:
        stack = _start_stack(
            version, fake_model, e2e_dir / version.label.replace(" ", "-"), started
        )
    except Exception as exc:
        failure = str(exc)
        if not isinstance(exc, StartupFailed):
            failure = f"set-up failed: {exc!r}\n" + "\n".join(
                f"--- {server.name} log ---\n{server.log_tail(60)}" for server in started
            )
        for server in reversed(started):
            server.stop()
    except BaseException:
        for server in reversed(started):
            server.stop()
        raise
    if failure:
        pytest.fail(failure, pytrace=False)
    try:
        yield stack
    finally:
        for server in reversed(started):
            server.stop()


@pytest.fixture(params=FORMATS)
def stream_format(request: pytest.FixtureRequest) -> str:
    """Each format the e2e tier reads; skipped when it is not installed."""
    if request.param not in load_registry().names():
        pytest.skip(f"format {request.param!r} is not installed")
    return str(request.param)


@pytest.fixture
def gateway(make_client: MakeClient, llama_stack: LlamaStack) -> Any:
    """Build our service in front of the llama-stack server (settings overrides allowed)."""

    async def make(
        *, tools: bool = False, shields: bool = False, guarded: bool = False, **overrides: Any
    ) -> TestClient[Any, Any]:
        if guarded and llama_stack.unguarded:
            pytest.skip(llama_stack.unguarded)
        if tools and llama_stack.missing_settings:
            pytest.skip(
                f"the service has no setting for {', '.join(llama_stack.missing_settings)} "
                f"(LLAMA_STACK_API={llama_stack.version.api})"
            )
        settings: dict[str, Any] = {
            "llama_stack_base_url": llama_stack.url,
            "llama_stack_api": llama_stack.version.api,
            "heartbeat_interval": 2.0,
            "stream_timeout": 120.0,
            **(llama_stack.service_settings if tools else {}),
            **(llama_stack.shield_settings if shields else {}),
            **(llama_stack.guarded_settings if guarded else {}),
            **overrides,
        }
        try:
            return await make_client(**settings)
        except ConfigurationError as exc:
            if "not available in this version" in str(exc):
                pytest.skip(f"service: {exc}")
            raise

    return make


def _ensure_venv(version: StackVersion) -> None:
    script = version.env_script
    result = subprocess.run(
        [str(script), version.version],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{script.name} {version.version} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}",
            pytrace=False,
        )


def _start_stack(
    version: StackVersion, fake_model: Server, state: Path, started: list[Server]
) -> LlamaStack:
    """Start the MCP server and llama-stack (appending each to `started`), then set them up."""
    state.mkdir()
    mcp = _start_mcp_server(version, state)
    started.append(mcp)
    port = free_port()
    config = state / "run.yaml"
    config.write_text(version.run_config(f"{fake_model.url}/v1", state, port))
    log = state / "server.log"
    process = spawn(version.command(config, port), log, env=version.server_env(), cwd=state)
    server = Server(version.label, process, port, log)
    started.append(server)
    register_servers_for_reports(server, mcp)
    seconds = wait_healthy(server, "/v1/health", HEALTH_TIMEOUT)
    print(f"\n{version.label} healthy after {seconds:.1f} s", file=sys.stderr)
    return _set_up(version, server, mcp, state)


def _start_mcp_server(version: StackVersion, state: Path) -> Server:
    port = free_port()
    log = state / "mcp-server.log"
    script = Path(__file__).with_name("mcp_server.py")
    process = spawn([str(version.venv / "bin" / "python"), str(script), "--port", str(port)], log)
    server = Server("mcp-server", process, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartupFailed(f"MCP server exited:\n{server.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise StartupFailed(f"MCP server did not listen on {port}:\n{server.log_tail()}")


def _set_up(version: StackVersion, server: Server, mcp: Server, state: Path) -> LlamaStack:
    """Create the vector store and tool registrations, and the service settings that use them."""
    mcp_url = f"{mcp.url}/mcp"
    if version.api == "agents":
        vector_db_id = insert_rag_documents(server.url, version, "e2e-docs")
        toolgroup = register_mcp_toolgroup(server.url, mcp_url)
        return LlamaStack(
            version,
            server,
            mcp,
            vector_db_id,
            service_settings={
                "agent_toolgroups": [toolgroup],
                "agent_vector_db_ids": [vector_db_id],
            },
            shield_settings={
                "agent_input_shields": ["llama-guard"],
                "agent_output_shields": ["llama-guard"],
            },
            unguarded=f"{version.label} runs the Agents API here, which has no tool approvals",
        )
    unguarded = _unguarded()
    store_id = create_vector_store(server.url, "e2e-docs")
    wanted = {
        # Responses adapter settings: MCP servers and file_search vector stores the operator
        # configures. Kept in one place so the names follow the adapter.
        "responses_mcp_servers": [{"server_label": MCP_LABEL, "server_url": mcp_url}],
        "responses_vector_store_ids": [store_id],
    }
    present = {name: value for name, value in wanted.items() if name in Settings.model_fields}
    missing = [name.upper() for name in wanted if name not in present]
    return LlamaStack(
        version,
        server,
        mcp,
        store_id,
        service_settings=present,
        # OGX has no shields: its guardrails are one switch, moderated by the fake model
        shield_settings=(
            {"responses_moderation": True}
            if version.ogx
            else {"responses_guardrails": ["llama-guard"]}
        ),
        missing_settings=missing,
        guarded_settings={} if unguarded else _guarded_settings(mcp_url, state),
        unguarded=unguarded,
    )


GUARDED = ("responses_mcp_servers", "approval_timeout")
"""The settings tests/e2e/approvals.yaml sets."""


def _guarded_settings(mcp_url: str, state: Path) -> dict[str, Any]:
    """Load tests/e2e/approvals.yaml (its MCP server guarded) as the service loads its file."""
    template = string.Template(Path(__file__).with_name("approvals.yaml").read_text())
    path = state / "approvals.yaml"
    path.write_text(template.substitute(mcp_url=mcp_url))
    return load_settings(path).model_dump(include=set(GUARDED))


def _unguarded() -> str:
    """Why the service cannot guard an MCP tool yet ("": it can)."""
    missing = [
        name
        for name, present in (
            (
                "RESPONSES_MCP_SERVERS[].require_approval",
                "require_approval" in McpServer.model_fields,
            ),
            ("APPROVAL_TIMEOUT", "approval_timeout" in Settings.model_fields),
        )
        if not present
    ]
    if missing:
        return f"the service has no setting {', '.join(missing)}"
    if load_registry().get("raw").approvals != "route":
        return "the formats cannot ask for approvals yet (raw's approvals channel is not route)"
    return ""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """Attach the tails of the e2e servers' logs to a failed e2e test's report."""
    outcome: Any = yield
    report = outcome.get_result()
    if report.failed and item.get_closest_marker("e2e") is not None:
        for server in servers_for_reports():
            report.sections.append((f"{server.name} log ({server.log})", server.log_tail(60)))
