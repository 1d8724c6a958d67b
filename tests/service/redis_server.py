"""A real redis-server on a free loopback port, for the tests of the Redis stream store."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

SETUP_HINT = "the Redis tests need redis-server (Debian: apt-get install redis-server)"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_redis_server() -> str:
    """Return the redis-server binary; skip without it, but fail under CI (.ci/run installs it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(f"redis-server is missing: {SETUP_HINT}")
        pytest.skip(SETUP_HINT)
    return binary


class RedisProcess:
    """A redis-server on one loopback port (no persistence) that a test may kill and restart."""

    def __init__(self, binary: str, port: int, directory: str) -> None:
        self._binary, self.port, self._directory = binary, port, directory
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        self._process = process = subprocess.Popen(
            [
                self._binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", self._directory,
                "--protected-mode", "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the server and wait for it to die."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=5)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()


@contextlib.contextmanager
def redis_process(binary: str) -> Iterator[RedisProcess]:
    """Run redis-server on a free port of 127.0.0.1 until the block ends."""
    with tempfile.TemporaryDirectory() as directory:
        server = RedisProcess(binary, free_port(), directory)
        try:
            server.start()
            yield server
        finally:
            server.stop()


@contextlib.contextmanager
def redis_server(binary: str) -> Iterator[str]:
    """Run redis-server on 127.0.0.1 (no persistence) until the block ends; yield its URL."""
    with redis_process(binary) as server:
        yield server.url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """One redis-server for the whole session (stream keys are random, so tests never collide)."""
    with redis_server(require_redis_server()) as url:
        yield url
