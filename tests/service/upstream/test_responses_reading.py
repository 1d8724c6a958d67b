"""The Responses adapter's reading of a body: what json.loads gives wherever the normalizer reads it."""

from __future__ import annotations

import json
from typing import Any

from service.upstream.responses import OpenStream


class _Body:
    """Stands in for an aiohttp response: `readany` returns the body, then nothing."""

    def __init__(self, body: bytes) -> None:
        self.content = self
        self._pieces = [body]

    async def readany(self) -> bytes:
        return self._pieces.pop() if self._pieces else b""


async def read_all(*events: Any) -> list[object]:
    body = b"".join(f"data: {json.dumps(event)}\n\n".encode() for event in events)
    return await read_body(body)


async def read_body(body: bytes) -> list[object]:
    stream = OpenStream(_Body(body))  # type: ignore[arg-type]
    read: list[object] = []
    for _ in range(10):  # bounded: one read takes the whole body
        if not await stream.read():
            return read
        read += stream.take()
    raise AssertionError("the body never ended")


BIG = 123456789012345678901
"""Past 64 bits: orjson reads it as a float, json.loads as this int."""


async def test_events_the_normalizer_validates_are_read_exactly() -> None:
    delta = {"type": "response.output_text.delta", "delta": "Hi", "sequence_number": BIG}
    completed = {"type": "response.completed", "response": {"usage": {"input_tokens": BIG}}}
    quick, exact = await read_all(delta, completed)
    assert repr(exact) == repr(completed)  # the usage count stays an int
    # the normalizer reads a delta's strings only: orjson's reading of its number stands
    assert quick == {**delta, "sequence_number": float(BIG)}


async def test_a_body_that_is_not_json_is_marked_for_the_normalizer() -> None:
    not_json, nan = await read_body(b"data: {oops\n\ndata: NaN\n\n")
    assert type(not_json) is object  # the adapter's marker for "not JSON"
    assert nan != nan  # json.loads reads NaN, orjson does not
