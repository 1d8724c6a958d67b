"""Stream ids, SSE event ids (`<stream id>:<seq>`), and stamping frames with them."""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Iterable, Iterator

from formatters.frames import Frame, FrameValue, encode_frame

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


def stamp(frame: FrameValue, value: str) -> FrameValue:
    """Give one frame the id `value` (replacing the format's own); a comment gets none.

    Stamped frames are encoded `resumable` (formatters.frames.encode_frame): the id last, a
    keep-alive as bare comment lines with no blank line.
    """
    return Frame(frame.data, frame.event, value) if isinstance(frame, Frame) else frame


def stamped(frames: Iterable[FrameValue], ids: Iterable[str]) -> list[str]:
    """Return the SSE text of frames stamped with `ids`, one each, as resumable streams send it."""
    return [
        encode_frame(stamp(frame, value), resumable=True)
        for frame, value in zip(frames, ids, strict=False)
    ]


def numbered(stream_id: str, first_seq: int) -> Iterator[str]:
    """Yield the event ids of a stream's frames from `first_seq` on."""
    return (event_id(stream_id, seq) for seq in itertools.count(first_seq))
