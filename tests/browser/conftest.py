"""Fixtures of the browser tier: Chromium and playwright-core present, the service started, the
page driven by tests/browser/driver.mjs, screenshots saved under artifacts/browser/."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.paths import REPO

WEB = REPO / "web"
DRIVER = Path(__file__).with_name("driver.mjs")
ARTIFACTS = REPO / "artifacts" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SETUP_HINT = (
    "the browser tests need Node 20+, Chromium (`apt-get install chromium`) and web/'s npm "
    "packages (`make web-deps`, or `cd web && npm ci`)"
)
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _require(missing: list[str]) -> None:
    """Skip when a tool is missing; fail instead under CI, where .ci/run installs them all."""
    if missing:
        message = f"missing {', '.join(missing)}: {SETUP_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def web_packages() -> None:
    """Node and web/'s npm packages are installed."""
    missing = [] if shutil.which("node") else ["node"]
    if not (WEB / "node_modules" / "playwright-core" / "package.json").exists():
        missing.append("web/node_modules (npm ci)")
    _require(missing)


@pytest.fixture(scope="session")
def browser_ready(web_packages: None) -> None:
    """Chromium is installed too."""
    _require([] if Path(CHROMIUM).exists() else [CHROMIUM])


Report = dict[str, Any]
RunPage = Callable[..., Awaitable[Report]]


@pytest.fixture
def run_page(browser_ready: None, tmp_path: Path) -> RunPage:
    """Drive the page at `url` through `steps` in a fresh Chromium profile; return the report."""

    async def run(
        url: str, steps: list[dict[str, Any]], screenshot: str | None = None, seconds: float = 30
    ) -> Report:
        job: dict[str, Any] = {
            "url": url,
            "steps": steps,
            "userDataDir": str(tmp_path / f"chromium-{time.monotonic_ns()}"),
            "executablePath": CHROMIUM,
            "timeoutMs": int(seconds * 1000),
        }
        if screenshot:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            job["screenshot"] = str(ARTIFACTS / screenshot)
        process = await asyncio.create_subprocess_exec(
            "node",
            str(DRIVER),
            json.dumps(job),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), seconds + 30)
        assert out, f"the page driver printed nothing (exit {process.returncode}): {err.decode()}"
        report: Report = json.loads(out)
        assert not report.get("timeout"), f"the page driver timed out: {err.decode()}"
        assert "error" not in report, report["error"]
        return report

    return run


@dataclass
class ServiceProcess:
    """A `python -m service` process on 127.0.0.1 and its log."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        """The service's log so far."""
        return self.log.read_text(errors="replace")


StartService = Callable[..., ServiceProcess]


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[StartService]:
    """Start the service (demo agent unless the environment says otherwise); stop it after."""
    started: list[ServiceProcess] = []

    def start(**settings: str) -> ServiceProcess:
        port = _free_port()
        log = tmp_path / f"service-{port}.log"
        env = {
            **{k: v for k, v in os.environ.items() if k not in _SERVICE_VARIABLES},
            "LOG_FORMAT": "json",
            "NO_PROXY": "127.0.0.1,localhost",
            **settings,
        }
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", str(port)],
                cwd=REPO,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        service = ServiceProcess(f"http://127.0.0.1:{port}", process, log)
        started.append(service)
        _wait_alive(service)
        return service

    yield start
    for service in started:
        service.process.terminate()
        try:
            service.process.wait(10)
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait(5)


def _wait_alive(service: ServiceProcess, limit: float = 20) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            pytest.fail(f"the service exited at start:\n{service.log_text()}")
        with (
            contextlib.suppress(OSError),
            _NO_PROXY.open(service.url + "/liveness", timeout=1) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.1)
    pytest.fail(f"the service did not answer /liveness in {limit} s:\n{service.log_text()}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


_SERVICE_VARIABLES = {
    "LLAMA_STACK_BASE_URL",
    "LLAMA_STACK_API",
    "LLAMA_STACK_API_KEY",
    "HEARTBEAT_INTERVAL",
    "DEMO_DELAY",
    "SERVICE_CONFIG",
    "HOST",
    "PORT",
}


@dataclass
class IdleProxy:
    """A TCP proxy that cuts a connection after `idle` seconds without a byte from the server,
    like a load balancer's idle timeout; it counts the streaming queries it forwards."""

    target_port: int
    idle: float
    url: str = ""
    queries: int = 0
    cuts: int = 0


@pytest.fixture
async def idle_proxy() -> AsyncIterator[Callable[[str, float], Awaitable[IdleProxy]]]:
    """Start an idle-timeout proxy in front of a service URL."""
    servers: list[asyncio.Server] = []

    async def start(url: str, idle: float) -> IdleProxy:
        proxy = IdleProxy(target_port=int(url.rsplit(":", 1)[1]), idle=idle)

        async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", proxy.target_port)

            async def upload() -> None:
                while data := await client_r.read(65536):
                    proxy.queries += data.count(b"POST /v1/streaming_query")
                    server_w.write(data)
                    await server_w.drain()

            async def download() -> None:
                while True:
                    try:
                        data = await asyncio.wait_for(server_r.read(65536), proxy.idle)
                    except TimeoutError:
                        proxy.cuts += 1
                        return
                    if not data:
                        return
                    client_w.write(data)
                    await client_w.drain()

            tasks = [asyncio.ensure_future(upload()), asyncio.ensure_future(download())]
            with contextlib.suppress(ConnectionError):
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
            for writer in (client_w, server_w):
                writer.close()
            await asyncio.gather(*tasks, return_exceptions=True)

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        proxy.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        return proxy

    yield start
    for server in servers:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)
