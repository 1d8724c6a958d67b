"""The exact reading (`exact_chunk` of `quick_chunk`) is json.loads's: same values, types, refusals."""

from __future__ import annotations

import json
import math
import random
import struct
from typing import Any

import pytest

from service.upstream.json_chunks import UNREAD, exact_chunk, quick_chunk
from tests.paths import AGENTS_FIXTURES, RESPONSES_FIXTURES


def parse_chunk(text: str) -> Any:
    """A chunk's exact reading, as the adapters take it: orjson's, mended where it differs."""
    return exact_chunk(text, quick_chunk(text))


def outcome(parse: Any, text: str) -> str:
    """The parsed value's repr (types, key order, NaN and -0.0 included), or the error raised."""
    try:
        return repr(parse(text))
    except (ValueError, RecursionError) as exc:
        return f"raises {type(exc).__name__}"


def assert_same(text: str) -> str:
    expected = outcome(json.loads, text)
    assert outcome(parse_chunk, text) == expected, text[:200]
    return expected


def fixture_chunks() -> list[str]:
    chunks = []
    for path in [*AGENTS_FIXTURES.glob("*.sse"), *RESPONSES_FIXTURES.glob("*.sse")]:
        for line in path.read_text().splitlines():
            if line.startswith("data: "):
                chunks.append(line.removeprefix("data: "))
    return chunks


def test_every_fixture_chunk_parses_the_same() -> None:
    chunks = fixture_chunks()
    assert len(chunks) > 300
    for chunk in chunks:
        assert not assert_same(chunk).startswith("raises")


EDGE_CASES = [
    "NaN",
    "[Infinity, -Infinity]",
    '{"a": NaN}',
    "1e400",
    "-1e400",
    "1e-400",
    "-0",
    "-0.0",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "-18446744073709551617",
    "123456789012345678901234567890",
    '{"tokens": 123456789012345678901}',
    '"1234567890123456789"',
    "0.1234567890123456789012",
    "1.7976931348623157e308",
    "5e-324",
    '"\\ud800"',
    '"\\udc00x"',
    '{"\\udfff": 1}',
    '"\\ud83d\\ude00"',
    '"\ud800"',
    '"\\u0000"',
    '"\u2028\u2029"',
    '{"a": 1, "a": 2}',
    '"a\tb"',
    '"\x7f"',
    "\ufeff1",
    " \t\n\r1 \t\n\r",
    "\x0c1",
    "[1,]",
    '{"a": 1,}',
    "01",
    "'a'",
    "1 2",
    "",
    "[" * 5000 + "]" * 5000,
    "[" * 500 + "]" * 500,
    "true",
    "null",
    '"\\u00e9\\/"',
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_parse_or_fail_the_same(text: str) -> None:
    assert_same(text)


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randint(-(2**70), 2**70) >> rng.randrange(72)
    if kind == 2:
        return struct.unpack("<d", rng.randbytes(8))[0]
    if kind == 3:
        return rng.choice([math.nan, math.inf, -math.inf, -0.0, 0.1, 1e300])
    if kind in (4, 5):
        return "".join(
            chr(rng.choice([rng.randrange(128), rng.randrange(0x110000)]))
            for _ in range(rng.randrange(12))
        )
    if kind == 6:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(5))]
    return {
        str(random_value(rng, 3)): random_value(rng, depth + 1) for _ in range(rng.randrange(5))
    }


def test_random_documents_parse_the_same() -> None:
    rng = random.Random(1124)
    for _ in range(5000):
        value = random_value(rng)
        assert_same(json.dumps(value, ensure_ascii=rng.random() < 0.5))


def test_random_number_literals_parse_the_same() -> None:
    rng = random.Random(2026)
    for _ in range(20000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 25)))
        literal = rng.choice(["", "-"]) + (digits.lstrip("0") or "0")
        if rng.random() < 0.5:
            literal += "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 20)))
        if rng.random() < 0.4:
            literal += rng.choice("eE") + rng.choice(["", "+", "-"]) + str(rng.randint(0, 400))
        assert_same(f'{{"n": {literal}}}')


def shape(value: Any) -> Any:
    """`value` with every number replaced by one marker: what `quick_chunk` promises to keep."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "<number>"
    return value


def test_the_quick_reading_keeps_strings_keys_and_nesting() -> None:
    rng = random.Random(1201)
    texts = [*EDGE_CASES, *fixture_chunks()]
    texts += [json.dumps(random_value(rng), ensure_ascii=False) for _ in range(3000)]
    quick_reads = 0
    for text in texts:
        quick = quick_chunk(text)
        if quick is UNREAD:
            continue
        quick_reads += 1
        assert shape(quick) == shape(json.loads(text)), text[:200]
        assert repr(exact_chunk(text, quick)) == repr(json.loads(text)), text[:200]
    assert quick_reads > 3000


def test_the_exact_reading_mends_what_orjson_reads_otherwise() -> None:
    text = '{"tokens": 123456789012345678901, "text": "a"}'
    quick = quick_chunk(text)
    assert quick == {"tokens": 1.2345678901234568e20, "text": "a"}
    exact = exact_chunk(text, quick)
    assert exact == {"tokens": 123456789012345678901, "text": "a"}
    assert type(exact["tokens"]) is int
    assert quick_chunk("NaN") is UNREAD
    assert math.isnan(exact_chunk("NaN", UNREAD))
    with pytest.raises(json.JSONDecodeError, match="Expecting property name"):
        exact_chunk("{", quick_chunk("{"))
