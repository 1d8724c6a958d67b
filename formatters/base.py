"""The formatter API: what a formatter plugin implements, and SSE frame helpers."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from formatters.events import Event

ENTRY_POINT_GROUP = "agent_stream_gateway.formatters.v1"
"""Entry-point group under which formatter classes are registered."""

EVENT_STREAM = "text/event-stream"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Formatter(ABC):
    """Turns normalized events into SSE frames for one stream; one instance per stream."""

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    media_type: ClassVar[str] = EVENT_STREAM
    description: ClassVar[str]
    headers: ClassVar[Mapping[str, str]] = MappingProxyType({})
    """Extra response headers this format needs."""

    @abstractmethod
    def format(self, event: Event) -> list[str]:
        """Return the complete SSE frames for one event, in order (possibly none)."""


def sse_frame(data: str, *, event: str | None = None, id: str | None = None) -> str:
    """Build one SSE frame; `data` may hold newlines (each line gets its own `data:` field)."""
    lines = []
    if event is not None:
        lines.append(f"event: {_field_value(event)}\n")
    if id is not None:
        lines.append(f"id: {_field_value(id)}\n")
    lines.extend(f"data: {line}\n" for line in _LINE_BREAK.split(data))
    lines.append("\n")
    return "".join(lines)


def sse_comment(text: str = "") -> str:
    """Build one SSE comment frame, which clients ignore (a keep-alive)."""
    return "".join(f": {line}\n" if line else ":\n" for line in _LINE_BREAK.split(text)) + "\n"


def _field_value(value: str) -> str:
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError(f"SSE field value may not contain line breaks or NUL: {value!r}")
    return value
