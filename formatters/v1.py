"""The deprecated v1 formatter API (SSE text): its plugins run through an adapter to values."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar, Self

from formatters.base import ENTRY_POINT_GROUP, ENTRY_POINT_GROUP_V1, Formatter
from formatters.events import Event
from formatters.frames import FrameValue, parse


class V1Adapter(Formatter):
    """A v1 formatter (one whose `format` returns SSE text) as a v2 one: its text, read back."""

    legacy: ClassVar[type[Any]]
    """The v1 formatter class; one instance per stream, as before."""

    def __init__(self) -> None:
        self._legacy = self.legacy()

    def format(self, event: Event) -> list[FrameValue]:
        """Return the v1 formatter's frames for one event, read into values."""
        return [value for text in self._legacy.format(event) for value in parse(text)]

    def closer(self) -> Self:
        """Return a fresh adapter: a v1 formatter's state is opaque, so none is carried."""
        return type(self)()


def adapt(formatter: type[Any], plugin: str) -> type[Formatter]:
    """Return a v2 class for a v1 formatter class, with a DeprecationWarning naming `plugin`."""
    warnings.warn(
        f"formatter plugin {plugin!r} ({formatter.__module__}.{formatter.__qualname__}) uses the "
        f"deprecated v1 formatter API ({ENTRY_POINT_GROUP_V1}: SSE text); it runs through an "
        f"adapter; register it under {ENTRY_POINT_GROUP} and return frame values",
        DeprecationWarning,
        stacklevel=2,
    )
    namespace = {
        "legacy": formatter,
        "name": formatter.name,
        "aliases": tuple(formatter.aliases),
        "media_type": formatter.media_type,
        "description": formatter.description,
        "headers": formatter.headers,
        "__module__": formatter.__module__,
        "__doc__": formatter.__doc__,
    }
    return type(formatter.__name__, (V1Adapter,), namespace)
