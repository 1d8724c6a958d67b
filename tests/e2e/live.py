"""Read an open stream of our service frame by frame, to act on a frame while the turn goes on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp import ClientResponse

from service.upstream.sse import SSEDecoder

Frame = tuple[str, dict[str, Any]]
"""A frame's name and data: `raw` names it by its `type`, the lightspeed dialects by `event`."""


class LiveStream:
    """The frames of one streamed response, read as they come, each read bounded in time."""

    def __init__(self, response: ClientResponse, format_name: str, timeout: float = 60.0) -> None:
        self.response = response
        self.format_name = format_name
        self.timeout = timeout
        self.frames: list[Frame] = []
        self.body = b""
        self._decoder = SSEDecoder()
        self._ready: list[Frame] = []
        self._ended = False

    async def next(self) -> Frame | None:
        """Return the next frame, or None once the stream has ended."""
        while not self._ready and not self._ended:
            chunk = await asyncio.wait_for(self.response.content.readany(), self.timeout)
            self._ended = not chunk
            self.body += chunk
            events = self._decoder.feed(chunk)
            self._ready = [self._frame(event.data) for event in events if event.data]
        if not self._ready:
            return None
        frame = self._ready.pop(0)
        self.frames.append(frame)
        return frame

    async def until(self, wanted: Callable[[Frame], bool]) -> Frame:
        """Read up to the first frame `wanted` accepts; fail if the stream ends first."""
        while (frame := await self.next()) is not None:
            if wanted(frame):
                return frame
        raise AssertionError(f"the stream ended without the frame wanted:\n{self.describe()}")

    async def rest(self) -> list[Frame]:
        """Read the stream to its end; return the frames read from here on."""
        start = len(self.frames)
        while await self.next() is not None:
            pass
        return self.frames[start:]

    def names(self) -> list[str]:
        """The names of the frames read so far, heartbeats left out."""
        return [name for name, _ in self.frames if name != "heartbeat"]

    def describe(self) -> str:
        """The frames read so far, for assertion messages."""
        return "\n".join(json.dumps(frame)[:400] for frame in self.frames)

    def _frame(self, data: str) -> Frame:
        decoded = json.loads(data)
        if self.format_name == "raw":
            return str(decoded["type"]), decoded
        return str(decoded["event"]), decoded["data"]
