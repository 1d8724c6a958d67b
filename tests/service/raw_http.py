"""Raw-socket HTTP for the tests: exact request bytes, and the answer read as it arrives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any


@dataclass
class RawAnswer:
    """One HTTP answer as the socket delivered it, and whether the server then closed."""

    status_line: str
    headers: dict[str, str]
    body: bytes
    closed: bool

    def json(self) -> Any:
        return json.loads(self.body)


async def exchange(
    port: int, request: bytes, *, then_close: bool = False, wait: float = 10.0
) -> RawAnswer | None:
    """Send `request` to 127.0.0.1:port; read one answer (None if the server sent nothing).

    `closed` says whether the server closed the connection within `wait` s after its answer.
    With `then_close`, the client closes its side right after sending (an aborted request).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        if then_close:
            return None
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), wait)
        except (TimeoutError, asyncio.IncompleteReadError):
            return None
        status_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
        headers = {name.lower(): value for name, _, value in (h.partition(": ") for h in lines)}
        body = await asyncio.wait_for(
            reader.readexactly(int(headers.get("content-length", "0"))), wait
        )
        try:
            rest = await asyncio.wait_for(reader.read(), wait)
            closed = rest == b""
        except TimeoutError:
            closed = False
        return RawAnswer(status_line, headers, body, closed)
    finally:
        writer.close()


async def wait_for_logs(
    logs: list[MutableMapping[str, Any]], event: str, seconds: float = 10.0
) -> None:
    """Wait (bounded) until a captured structlog entry with this event shows up."""
    for _ in range(int(seconds / 0.05)):
        if any(entry["event"] == event for entry in logs):
            return
        await asyncio.sleep(0.05)
