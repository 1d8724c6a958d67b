"""JSON renderings shared by the formats: compact JSON text and normalized events as objects."""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any, Self

from formatters.events import Event, JsonObject

_COMPACT = json.JSONEncoder(separators=(",", ":"))
"""`json.dumps(value, separators=(",", ":"))`'s own encoder, made once: `json.dumps` makes a
new one on every call that passes an argument (only the default one is kept)."""


def compact_json(value: Any) -> str:
    """Serialize without spaces; non-ASCII is escaped, so a lone surrogate cannot break a write."""
    return _COMPACT.encode(value)


def event_object(event: Event) -> JsonObject:
    """Return a normalized event as the JSON object its schema describes, `type` first."""
    fields = event.model_dump(mode="json", exclude={"type"})
    return {"type": event.type, **fields}


SLOT = "\ue000agent-stream-gateway text\ue000"
"""Stands in a payload for the string a `TextTemplate` fills in."""
_SLOT_JSON = encode_basestring_ascii(SLOT)


class TextTemplate:
    """`compact_json` of one payload with one string left open (`SLOT`), for a text per token.

    `fill(text)` gives the bytes `compact_json` gives of the payload with `text` in the slot's
    place: the encoder writes every string with `encode_basestring_ascii`, as `fill` does.
    """

    __slots__ = ("_after", "_before")

    def __init__(self, before: str, after: str) -> None:
        self._before = before
        self._after = after

    @classmethod
    def of(cls, payload: Any) -> Self | None:
        """Return the payload's template; None unless SLOT is in it exactly once."""
        text = compact_json(payload)
        if text.count(_SLOT_JSON) != 1:  # another string may hold the slot's text
            return None
        before, _, after = text.partition(_SLOT_JSON)
        return cls(before, after)

    def fill(self, text: str) -> str:
        """Return the payload's compact JSON with `text` in the slot."""
        return f"{self._before}{encode_basestring_ascii(text)}{self._after}"
