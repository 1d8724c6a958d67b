"""Ids of the client's own tool calls that carry their conversation, so a result finds its turn."""

from __future__ import annotations

import base64
import binascii

PREFIX = "call_"
_SEPARATOR = "\n"


def client_call_id(conversation_id: str, call_id: str) -> str:
    """Return the id a client sees for the upstream's call `call_id` in that conversation."""
    raw = f"{conversation_id}{_SEPARATOR}{call_id}".encode()
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_client_call_id(text: str) -> tuple[str, str] | None:
    """Return (conversation id, upstream call id) of an id `client_call_id` made, else None."""
    if not text.startswith(PREFIX):
        return None
    encoded = text.removeprefix(PREFIX)
    try:
        padded = encoded + "=" * (-len(encoded) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    conversation_id, separator, call_id = raw.partition(_SEPARATOR)
    if not separator or not conversation_id.strip() or not call_id.strip():
        return None
    return conversation_id, call_id
