"""JSON renderings shared by the formats: compact JSON text and normalized events as objects."""

from __future__ import annotations

import json
from typing import Any

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
