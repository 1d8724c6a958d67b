"""Parses upstream JSON chunks with orjson, giving exactly what `json.loads` gives."""

from __future__ import annotations

import json
from typing import Any

import orjson

# orjson reads an integer past 64 bits as a float; json.loads keeps it an int. Any run of 19
# digits (in a number or a string: a false alarm only costs the slow path) goes to json.loads.
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19


def parse_chunk(text: str) -> Any:
    """`json.loads(text)`, through orjson where orjson reads the text the same way."""
    raw = text.encode("utf-8", "surrogatepass")
    if raw.translate(_DIGITS_TO_ZERO).find(_LONG_DIGIT_RUN) >= 0:
        return json.loads(text)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:  # NaN, Infinity, 1e400, lone surrogates: json.loads decides
        return json.loads(text)
