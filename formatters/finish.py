"""How a turn finished, as the OpenAI-style formats report it: the one finish-reason ladder."""

from __future__ import annotations

from dataclasses import dataclass

from formatters.events import (
    EndEvent,
    ErrorEvent,
    Event,
    ShieldEvent,
    TextDeltaEvent,
    TurnAwaitingInputEvent,
)


@dataclass(slots=True)
class FinishReason:
    """Watches a turn's events for what decides its finish reason (openai; vercel hyphenates)."""

    failed: bool = False
    awaiting_input: bool = False
    violation: bool = False

    def observe(self, event: Event) -> None:
        """Take note of one event."""
        if type(event) is TextDeltaEvent:  # most events; isinstance below goes through ABCMeta
            return
        if isinstance(event, ErrorEvent):
            self.failed = True
        elif isinstance(event, TurnAwaitingInputEvent):
            self.awaiting_input = True
        elif isinstance(event, ShieldEvent) and event.violation is not None:
            self.violation = True

    def of(self, end: EndEvent) -> str:
        """Return the finish reason: error, tool_calls, content_filter, length or stop."""
        if self.failed:
            return "error"
        if self.awaiting_input:
            return "tool_calls"
        if self.violation:
            return "content_filter"
        if end.truncated:
            return "length"
        return "stop"
