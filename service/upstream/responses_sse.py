"""llama-stack-client reading its SSE streams through this service's size-capped decoder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from llama_stack_client import AsyncLlamaStackClient
from llama_stack_client._streaming import ServerSentEvent as ClientEvent

from service.upstream.sse import ServerSentEvent, SSEDecoder, iter_sse


class CappedSSEDecoder:
    """The client's SSE decoder protocol on `SSEDecoder`: an event over MAX_EVENT_BYTES raises.

    The client's own decoder joins a line's bytes with no limit, so one endless line grows
    memory until the stream's timeout; this one raises EventTooLarge as soon as it is over.
    """

    def iter_bytes(self, iterator: Iterator[bytes]) -> Iterator[ClientEvent]:
        """Decode a body given as byte chunks."""
        decoder = SSEDecoder()
        for chunk in iterator:
            yield from map(_client_event, decoder.feed(chunk))

    async def aiter_bytes(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[ClientEvent]:
        """Decode a body given as async byte chunks."""
        async for event in iter_sse(iterator):
            yield _client_event(event)


class CappedClient(AsyncLlamaStackClient):
    """The llama-stack client, its streams decoded by CappedSSEDecoder."""

    def _make_sse_decoder(self) -> CappedSSEDecoder:
        return CappedSSEDecoder()


def _client_event(event: ServerSentEvent) -> ClientEvent:
    return ClientEvent(event=event.event, data=event.data, id=event.id)
