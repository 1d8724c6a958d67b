"""Stream ids, SSE event ids (`<stream id>:<seq>`), and stamping frames with them."""

from __future__ import annotations

import re
import secrets

_STREAM_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
_EVENT_ID = re.compile(r"([A-Za-z0-9_-]{16,64}):(0|[1-9][0-9]{0,17})")


def new_stream_id() -> str:
    """Return a fresh, unguessable stream id (128 random bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def is_stream_id(text: str) -> bool:
    """Whether `text` has the shape of a stream id (it may still be unknown)."""
    return _STREAM_ID.fullmatch(text) is not None


def event_id(stream_id: str, seq: int) -> str:
    """Return the SSE `id:` value of a stream's frame."""
    return f"{stream_id}:{seq}"


def parse_event_id(text: str) -> tuple[str, int] | None:
    """Split a `Last-Event-ID` into stream id and sequence; None if it is not one of ours."""
    match = _EVENT_ID.fullmatch(text.strip())
    if match is None:
        return None
    return match[1], int(match[2])


def stamp(frame: str, value: str) -> str:
    """Give one SSE frame the `id:` line `value`, as its last line; its data lines are unchanged.

    The id goes last so that a client that records ids as it reads lines (fetch-event-source)
    records it only once the frame's data is in. An `id:` line of the format's own is replaced.
    A frame of comments only (a keep-alive) is returned as its bare comment lines, with no `id:`
    and no blank line: after a stream has sent an `id:`, the OpenAI Python SDK turns any blank
    line into an event and fails on its empty data.
    """
    lines = frame.splitlines()
    while lines and not lines[-1]:
        lines.pop()
    if all(line.startswith(":") for line in lines):
        return "".join(f"{line}\n" for line in lines)
    kept = [line for line in lines if not _is_id_line(line)]
    return "".join(f"{line}\n" for line in kept) + f"id: {value}\n\n"


def _is_id_line(line: str) -> bool:
    return line == "id" or line.startswith("id:")
