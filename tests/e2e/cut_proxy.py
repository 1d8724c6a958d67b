"""A TCP proxy in front of the e2e server that cuts a connection once it carries a text delta."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class CuttingProxy:
    """Forwards 127.0.0.1:port to the server; cuts both sides right after a first `marker`.

    Only the streamed turn carries `marker` (a Responses text delta), so the set-up calls pass.
    """

    def __init__(self, upstream_port: int, marker: bytes) -> None:
        self._upstream_port = upstream_port
        self._marker = marker
        self.cuts = 0
        self.port = 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[CuttingProxy]:
        """Listen on a free port while the context is open."""
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            await server.wait_closed()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self._upstream_port)
        upward = asyncio.create_task(self._pipe(client_r, server_w, watch=False))
        try:
            await self._pipe(server_r, client_w, watch=True)
        finally:
            upward.cancel()
            for writer in (client_w, server_w):
                writer.transport.abort()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, watch: bool
    ) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
            if watch and self._marker in data:
                self.cuts += 1
                return
