"""An HTTP transport for the Python SDKs under test that keeps the bytes they read."""

from __future__ import annotations

from typing import Any

import httpx2
import openai


class _Recorded(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, sink: bytearray) -> None:
        self._inner, self._sink = inner, sink

    async def __aiter__(self) -> Any:
        async for chunk in self._inner:
            self._sink.extend(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class Tap(httpx2.AsyncBaseTransport):
    """An HTTP transport that keeps a copy of every response body the SDK reads."""

    def __init__(self) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self.received = bytearray()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        return httpx2.Response(
            response.status_code,
            headers=response.headers,
            stream=_Recorded(response.stream, self.received),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def tapped_client(base_url: str) -> tuple[openai.AsyncOpenAI, Tap]:
    """An AsyncOpenAI client of the service at `base_url` (no retries), and its tap."""
    tap = Tap()
    client = openai.AsyncOpenAI(
        base_url=f"{base_url}/v1",
        api_key="unused",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=tap),
    )
    return client, tap
