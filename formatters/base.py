"""The formatter API (v2): what a formatter plugin implements, and the frame values it returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar, Literal, Self

from formatters.events import EndEvent, ErrorEvent, Event
from formatters.frames import Comment, Frame, FrameValue, encode_frame

__all__ = [
    "ENTRY_POINT_GROUP",
    "ENTRY_POINT_GROUP_V1",
    "EVENT_STREAM",
    "ApprovalChannel",
    "Comment",
    "Formatter",
    "Frame",
    "FrameValue",
    "sse_comment",
    "sse_frame",
]

ENTRY_POINT_GROUP = "agent_stream_gateway.formatters.v2"
"""Entry-point group under which formatter classes (this API: frame values) are registered."""
ENTRY_POINT_GROUP_V1 = "agent_stream_gateway.formatters.v1"
"""The deprecated group of formatters whose `format` returns SSE text (see formatters.v1)."""

EVENT_STREAM = "text/event-stream"

ApprovalChannel = Literal["route", "request", "none"]
"""How a format's clients answer a tool approval request (`Formatter.approvals`)."""


class Formatter(ABC):
    """Turns normalized events into SSE frame values for one stream; one instance per stream."""

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    media_type: ClassVar[str] = EVENT_STREAM
    description: ClassVar[str]
    headers: ClassVar[Mapping[str, str]] = MappingProxyType({})
    """Extra response headers this format needs."""
    error_ends_stream: ClassVar[bool] = False
    """Whether the error frame is also the terminal one (the protocol allows nothing after it:
    AG-UI's RUN_ERROR); then the `end` event after an error formats to no frames."""
    approvals: ClassVar[ApprovalChannel] = "none"
    """How this format's clients answer an approval request. "route": the stream stays open
    (heartbeats, no time limit) until `POST /v1/tool-approvals` decides it; "request": the
    stream ends awaiting input and the protocol's next request carries the decision; "none":
    the format cannot ask, so the gateway denies the tool and the answer says so."""

    @abstractmethod
    def format(self, event: Event) -> list[FrameValue]:
        """Return the frames for one event, in order (possibly none)."""

    def closer(self) -> Self:
        """Return a fresh formatter to close this stream with: an error, then the end.

        It must not change this one. A format whose closing frames depend on what it has sent
        (a frame counter, an open block) overrides this to hand that state to the new instance
        explicitly; by default the closing frames are a new instance's.
        """
        return type(self)()

    def epilogue(self, error: ErrorEvent, end: EndEvent) -> list[FrameValue]:
        """Return the frames that would close this stream now with `error` (this one unchanged)."""
        closer = self.closer()
        return [*closer.format(error), *closer.format(end)]


def sse_frame(data: str, *, event: str | None = None, id: str | None = None) -> str:
    """Return the SSE text of one frame (for v1 formatters; v2 ones return `Frame` itself)."""
    return encode_frame(Frame(data, event, id))


def sse_comment(text: str = "") -> str:
    """Return the SSE text of one comment (for v1 formatters; v2 ones return `Comment`)."""
    return encode_frame(Comment(text))
