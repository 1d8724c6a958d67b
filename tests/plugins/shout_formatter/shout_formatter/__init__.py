"""A third-party format for agent-stream-gateway: the answer in capitals, as `shout` events."""

from __future__ import annotations

from formatters.base import Comment, Formatter, Frame, FrameValue
from formatters.events import EndEvent, ErrorEvent, Event, HeartbeatEvent, TextDeltaEvent


class ShoutFormatter(Formatter):
    """Shouts every piece of the answer; needs only the formatter API, never the service."""

    name = "shout"
    aliases = ("caps",)
    description = "The answer in capitals (a third-party plugin package)"

    def format(self, event: Event) -> list[FrameValue]:
        """Return a `shout` frame per piece of text, `error`, and `end` last."""
        match event:
            case TextDeltaEvent(text=text) if text:
                return [Frame(text.upper(), event="shout")]
            case ErrorEvent(message=message):
                return [Frame(message.upper(), event="error")]
            case HeartbeatEvent():
                return [Comment("still shouting")]
            case EndEvent():
                return [Frame("THE END", event="end")]
        return []
