"""The fast SSE decoder returns what the line-by-line reference returns, feed by feed."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from service.upstream.sse import EventTooLarge, ServerSentEvent, SSEDecoder
from tests.paths import AGENTS_FIXTURES, RESPONSES_FIXTURES
from tests.service.upstream.sse_reference import ReferenceDecoder

FIXTURES = sorted(AGENTS_FIXTURES.glob("*.sse")) + sorted(RESPONSES_FIXTURES.glob("*.sse"))
NEWLINES = {"lf": b"\n", "crlf": b"\r\n", "cr": b"\r"}
Outcome = list[list[ServerSentEvent] | str]


def run(decoder: SSEDecoder | ReferenceDecoder, chunks: Sequence[bytes]) -> Outcome:
    """What each feed returned, ending with "too large" at the feed that refused the event."""
    outcome: Outcome = []
    for chunk in chunks:
        try:
            outcome.append(decoder.feed(chunk))
        except EventTooLarge:
            outcome.append("too large")
            break
    return outcome


def assert_same(chunks: Sequence[bytes], max_event_bytes: int = 16 * 1024 * 1024) -> Outcome:
    """Feed both decoders the same chunks; their outcomes must be equal."""
    expected = run(ReferenceDecoder(max_event_bytes), chunks)
    assert run(SSEDecoder(max_event_bytes), chunks) == expected, chunks
    return expected


def with_newlines(body: bytes, newline: bytes) -> bytes:
    return body.replace(b"\n", newline)


def frames(body: bytes) -> list[bytes]:
    return [frame + b"\n\n" for frame in body.split(b"\n\n")]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
@pytest.mark.parametrize("newline", NEWLINES.values(), ids=NEWLINES.keys())
def test_every_fixture_decodes_the_same_whole_by_frame_and_byte_by_byte(
    path: Path, newline: bytes
) -> None:
    body = with_newlines(path.read_bytes(), newline)
    whole = assert_same([body])
    assert whole[0], "the fixture has events"
    assert_same(frames(body))
    assert_same([body[i : i + 1] for i in range(len(body))])


@pytest.mark.parametrize("name", ["tool.sse", "text.sse", "shield-safe.sse", "fail-mid.sse"])
@pytest.mark.parametrize("newline", NEWLINES.values(), ids=NEWLINES.keys())
def test_agents_fixtures_split_at_every_byte_position_decode_the_same(
    name: str, newline: bytes
) -> None:
    body = with_newlines((AGENTS_FIXTURES / name).read_bytes(), newline)
    for cut in range(len(body) + 1):
        assert_same([body[:cut], body[cut:]])


def random_line(rng: random.Random) -> bytes:
    """An SSE line: mostly `data: `, with every other field shape, odd bytes and non-ASCII."""
    text = rng.choice([b"", b"x", b'{"a": 1}', "café ü".encode(), b"\xff\xfe", b"a\0b", b" s"])
    maker: list[Callable[[], bytes]] = [
        lambda: b"data: " + text,
        lambda: b"data: " + text,
        lambda: b"data: " + text,
        lambda: b"data:" + text,
        lambda: b"data",
        lambda: b"data: \xe2\x82",
        lambda: b"event: " + text,
        lambda: b"event",
        lambda: b"id: " + text,
        lambda: b"id",
        lambda: b": comment " + text,
        lambda: b"retry: 10",
        lambda: b"unknown: " + text,
        lambda: "\ufeffdata: bom".encode(),
        lambda: b"",
    ]
    return rng.choice(maker)()


def random_body(rng: random.Random) -> bytes:
    """Lines joined by a random mix of LF, CRLF and CR, often with a BOM in front."""
    parts = [b"\xef\xbb\xbf"] if rng.random() < 0.3 else []
    for _ in range(rng.randint(0, 30)):
        parts.append(random_line(rng))
        parts.append(rng.choice([b"\n", b"\r\n", b"\r", b"\n\n", b"\r\n\r\n", b"\r\r"]))
    return b"".join(parts)


def random_split(rng: random.Random, body: bytes) -> list[bytes]:
    """Cut the body at random places, empty pieces and cuts inside CRLF included."""
    cuts = sorted(rng.randint(0, len(body)) for _ in range(rng.randint(0, 8)))
    return [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]


def test_random_bodies_with_mixed_newlines_decode_the_same_in_random_splits() -> None:
    rng = random.Random(20261124)
    outcomes = set()
    for _ in range(6000):
        body = random_body(rng)
        limit = rng.choice([4, 8, 16, 64, 16 * 1024 * 1024])
        outcome = assert_same(random_split(rng, body), limit)
        outcomes.add("too large" if "too large" in outcome else "ok")
        assert_same([body], limit)
    assert outcomes == {"ok", "too large"}, "the cases cover both outcomes"


def split_at_events(rng: random.Random, body: bytes) -> list[bytes]:
    """Cut the body after each blank line (a read of whole events, often one), at times inside."""
    pieces = []
    for piece in body.replace(b"\n\n", b"\n\n\0cut").split(b"\0cut"):
        pieces += random_split(rng, piece) if rng.random() < 0.2 else [piece]
    return pieces


def event_body(rng: random.Random) -> bytes:
    """Mostly whole one-line `data: ` events, among random lines and newlines."""
    parts = []
    for _ in range(rng.randint(0, 20)):
        if rng.random() < 0.7:
            parts.append(b"data: " + rng.choice([b"x", b'{"a": 1}', "\u00e9".encode(), b"\xff"]))
            parts.append(b"\n\n")
        else:
            parts.append(random_line(rng))
            parts.append(rng.choice([b"\n", b"\r\n", b"\r", b"\n\n", b"\r\n\r\n"]))
    return b"".join(parts)


def test_random_bodies_read_an_event_at_a_time_decode_the_same() -> None:
    rng = random.Random(1201)
    whole_data_events = 0
    for _ in range(4000):
        body = event_body(rng) if rng.random() < 0.8 else random_body(rng)
        pieces = split_at_events(rng, body)
        whole_data_events += sum(p.startswith(b"data: ") and p.count(b"\n") == 2 for p in pieces)
        assert_same(pieces, rng.choice([4, 8, 16, 64, 16 * 1024 * 1024]))
    assert whole_data_events > 10_000, "most reads are one whole `data: ` event"


def test_random_bytes_decode_the_same_in_random_splits() -> None:
    rng = random.Random(7)
    alphabet = b"data: \n\r:ide\xff\xc3\xa9\x00x"
    for _ in range(3000):
        body = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        assert_same(random_split(rng, body), rng.choice([5, 30, 1024]))


@pytest.mark.parametrize(
    "chunks",
    [
        [b"data: a\r", b"\ndata: b\r\n\r", b"\n"],
        [b"data: a\n\n\r", b"\n\r\ndata: b\n\n"],
        [b"\xef\xbb", b"\xbfdata: a\n\n", b"\xef\xbb\xbfdata: b\n\n"],
        [b"data: x\n", b"\ndata: y\n\n"],
        [b"event: e\n", b"data: a\n\ndata: b\n\n"],
        [b"id: 1\n\ndata: a\n\nid: 2\0\n\ndata: b\n\nid: 3\n\ndata: c\n\n"],
        [b"data: a\n\n\n\n\ndata: b\n\n\n"],
    ],
)
def test_hand_picked_awkward_splits_decode_the_same(chunks: list[bytes]) -> None:
    assert_same(chunks)


@pytest.mark.parametrize("size", [6, 7, 8, 9])
def test_the_size_limit_refuses_at_the_same_feed_at_its_boundary(size: int) -> None:
    for value in (b"a" * size, "é".encode() * size):
        outcome = assert_same([b"data: x\n\n", b"data: " + value + b"\n\n"], max_event_bytes=8)
        assert outcome[0] == [ServerSentEvent(data="x")]
