"""A formatter written against the v1 API (SSE text), as a plugin of an older release is."""

from __future__ import annotations

from formatters.base import Formatter, sse_comment, sse_frame
from formatters.events import EndEvent, ErrorEvent, Event, HeartbeatEvent, TextDeltaEvent


class WhisperFormatter(Formatter):
    """Whispers every piece of the answer, with an id of its own; returns strings (v1)."""

    name = "whisper"
    aliases = ("quiet",)
    description = "The answer in lower case (a v1 plugin)"

    def __init__(self) -> None:
        self._count = 0

    def format(self, event: Event) -> list[str]:  # type: ignore[override]
        """Return a `whisper` frame per piece of text, `error`, and `end` last."""
        match event:
            case TextDeltaEvent(text=text) if text:
                self._count += 1
                return [sse_frame(f"{text.lower()}\n~", event="whisper", id=str(self._count))]
            case ErrorEvent(message=message):
                return [sse_frame(message.lower(), event="error")]
            case HeartbeatEvent():
                return [sse_comment("still\nwhispering")]
            case EndEvent():
                return [sse_frame("the end", event="end") + ": bye\n\n"]
        return []
