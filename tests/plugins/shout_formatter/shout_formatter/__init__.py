"""A third-party format for agent-stream-gateway: the answer in capitals, as `shout` events."""

from __future__ import annotations

from formatters.base import Formatter, sse_comment, sse_frame
from formatters.events import EndEvent, ErrorEvent, Event, HeartbeatEvent, TextDeltaEvent


class ShoutFormatter(Formatter):
    """Shouts every piece of the answer; needs only the formatter API, never the service."""

    name = "shout"
    aliases = ("caps",)
    description = "The answer in capitals (a third-party plugin package)"

    def format(self, event: Event) -> list[str]:
        """Return a `shout` frame per piece of text, `error`, and `end` last."""
        match event:
            case TextDeltaEvent(text=text) if text:
                return [sse_frame(text.upper(), event="shout")]
            case ErrorEvent(message=message):
                return [sse_frame(message.upper(), event="error")]
            case HeartbeatEvent():
                return [sse_comment("still shouting")]
            case EndEvent():
                return [sse_frame("THE END", event="end")]
        return []
