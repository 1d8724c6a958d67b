"""Parses upstream JSON chunks with orjson, giving exactly what `json.loads` gives."""

from __future__ import annotations

import json
from typing import Any, Final

import orjson

# orjson reads an integer past 64 bits as a float; json.loads keeps it an int. Any run of 19
# digits (in a number or a string: a false alarm only costs the slow path) goes to json.loads.
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19

UNREAD: Final = object()
"""`quick_chunk`'s answer for a text orjson does not read (`exact_chunk` asks json.loads)."""


def quick_chunk(text: str) -> Any:
    """Return orjson's reading of `text`, or UNREAD: a number past 64 bits may read otherwise.

    Strings, keys and nesting read the same as json.loads reads them, so a chunk whose use
    reads only those (a text delta's) can be used as it is; anything else goes on to
    `exact_chunk`.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN, Infinity, 1e400, lone surrogates: json.loads decides
        return UNREAD


def exact_chunk(text: str, quick: Any) -> Any:
    """`json.loads(text)`, given `quick_chunk(text)`: the quick reading wherever it is the same.

    ValueError if `text` is not JSON.
    """
    if quick is UNREAD:
        return json.loads(text)
    raw = text.encode("utf-8", "surrogatepass")
    if raw.translate(_DIGITS_TO_ZERO).find(_LONG_DIGIT_RUN) >= 0:
        return json.loads(text)
    return quick
