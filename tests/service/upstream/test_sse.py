"""The upstream SSE decoder follows the WHATWG parsing rules, however the bytes are split."""

from __future__ import annotations

import pytest

from service.upstream.sse import EventTooLarge, ServerSentEvent, SSEDecoder, iter_sse
from tests.paths import AGENTS_FIXTURES


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    return [event for chunk in chunks for event in decoder.feed(chunk)]


def test_data_lines_of_one_event_are_joined_with_newlines() -> None:
    assert decode(b"data: a\ndata: b\n\n") == [ServerSentEvent(data="a\nb")]


def test_event_id_and_comment_fields() -> None:
    events = decode(b": keep-alive\nevent: token\nid: 7\ndata:x\n\n")
    assert events == [ServerSentEvent(data="x", event="token", id="7")]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending_works(newline: bytes) -> None:
    body = b"data: one" + newline + newline + b"data: two" + newline + newline
    assert [e.data for e in decode(body)] == ["one", "two"]


def test_a_real_fixture_split_at_every_byte_decodes_the_same() -> None:
    body = (AGENTS_FIXTURES / "tool.sse").read_bytes().replace(b"\n", b"\r\n")
    whole = decode(body)
    assert len(whole) == 5
    assert decode(*[body[i : i + 1] for i in range(len(body))]) == whole


def test_an_unfinished_event_is_not_dispatched() -> None:
    assert decode(b"data: partial\n") == []


def test_leading_byte_order_mark_is_ignored_and_utf8_split_across_chunks() -> None:
    body = "\ufeffdata: café\n\n".encode()
    cut = body.index("é".encode()) + 1
    assert decode(body[:cut], body[cut:]) == [ServerSentEvent(data="café")]


def test_an_event_larger_than_the_limit_is_refused() -> None:
    decoder = SSEDecoder(max_event_bytes=10)
    with pytest.raises(EventTooLarge):
        decoder.feed(b"data: " + b"x" * 20)


async def test_iter_sse_reads_an_async_body() -> None:
    async def body():
        yield b"data: 1\n"
        yield b"\ndata: 2\n\n"

    assert [event.data async for event in iter_sse(body())] == ["1", "2"]
