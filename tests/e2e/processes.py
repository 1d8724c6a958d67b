"""Start, watch and stop the e2e tier's server processes (fake model, MCP server, llama-stack)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.upstream.sse import SSEDecoder

LOCAL_ENV = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
# urllib must never go through a proxy to reach 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class StartupFailed(RuntimeError):
    """A server process died or did not become healthy in time; the message holds its log."""


@dataclass
class Server:
    """A started server process, its address and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    stopped: bool = False

    @property
    def url(self) -> str:
        """Base URL of the server on the loopback interface."""
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 80) -> str:
        """Return the last lines of the server's log."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the process group started for this server: SIGTERM, then SIGKILL."""
        self.stopped = True
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()  # the announce pipe; left open it is a ResourceWarning


_REPORTED: list[Server] = []


def register_servers_for_reports(*servers: Server) -> None:
    """Have a failed e2e test's report show these servers' log tails."""
    _REPORTED.extend(server for server in servers if server not in _REPORTED)


def servers_for_reports() -> list[Server]:
    """The servers whose logs a failed e2e test's report shows: all not stopped on purpose."""
    return [server for server in _REPORTED if not server.stopped]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(
    argv: list[str],
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    pipe_stdout: bool = False,
) -> subprocess.Popen[bytes]:
    """Start a process in its own process group, its output into `log`.

    With `pipe_stdout` only stderr goes to the log and stdout is piped, for a process that
    announces its port there and prints nothing else (an unread pipe that fills up blocks
    the process: llama-stack logs to stdout).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as log_file:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipe_stdout else log_file,
            stderr=log_file,
            env={**os.environ, **LOCAL_ENV, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )


def read_announced_port(process: subprocess.Popen[bytes], log: Path, timeout: float) -> int:
    """Wait for the `listening on PORT` line a fake server prints on stdout."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline().decode(errors="replace")
            if line.startswith("listening on "):
                return int(line.split()[-1])
            if not line and process.poll() is not None:
                break
    raise StartupFailed(
        f"{log.name}: no 'listening on PORT' line\n{log.read_text(errors='replace')}"
    )


def wait_healthy(server: Server, path: str, timeout: float) -> float:
    """Poll GET `path` until it answers 2xx; return the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if server.process.poll() is not None:
            raise StartupFailed(
                f"{server.name} exited with {server.process.returncode} before it was healthy:\n"
                f"{server.log_tail(120)}"
            )
        try:
            with _OPENER.open(server.url + path, timeout=2) as response:
                if 200 <= response.status < 300:
                    return time.monotonic() - start
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.25)
    raise StartupFailed(
        f"{server.name} was not healthy at {path} after {timeout:.0f} s:\n{server.log_tail(120)}"
    )


def request_json(
    method: str, url: str, body: Any = None, *, timeout: float = 60.0
) -> dict[str, Any]:
    """Send a JSON request (no proxy) and return the decoded JSON answer; raise on 4xx/5xx."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    return _send(request, timeout)


def request_sse(url: str, body: Any, *, timeout: float = 60.0) -> list[dict[str, Any]]:
    """POST JSON (no proxy), read the whole event stream; return each `data:` event decoded."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Accept", "text/event-stream")
    request.add_header("Content-Type", "application/json")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:2000]
        raise AssertionError(f"POST {url} → {exc.code}: {detail}") from None
    return [json.loads(event.data) for event in SSEDecoder().feed(raw) if event.data]


def upload_file(
    url: str, filename: str, content: bytes, purpose: str = "assistants"
) -> dict[str, Any]:
    """POST a multipart/form-data file upload (OpenAI Files API shape) and return the JSON."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'.encode(),
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + content
        + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    request = urllib.request.Request(url, data=b"".join(parts), method="POST")
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    return _send(request, 60.0)


def _send(request: urllib.request.Request, timeout: float) -> dict[str, Any]:
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:2000]
        raise AssertionError(
            f"{request.method} {request.full_url} → {exc.code}: {detail}"
        ) from None
    return json.loads(text) if text else {}
