"""The `lightspeed-0.4` format: lightspeed-stack 0.4.2's `/v1/streaming_query` frames."""

from __future__ import annotations

from formatters.base import FrameValue
from formatters.events import EndEvent, Event, JsonObject, StepStartEvent
from formatters.lightspeed_07 import Lightspeed07Formatter, end_fields


class Lightspeed04Formatter(Lightspeed07Formatter):
    """lightspeed-stack 0.4.2's SSE dialect: 0.7's frames, read from llama-stack's Responses.

    Each message the model starts gets an empty numbered `token` (0.4.2 sends one for each
    `response.content_part.added`); `end` has no `context_status`.
    """

    name = "lightspeed-0.4"
    description = "lightspeed-stack 0.4.x /v1/streaming_query frames, byte for byte"

    def _frames(self, event: Event) -> list[FrameValue]:
        if type(event) is StepStartEvent and event.step == "inference":
            return [self._numbered("token", "")]
        return super()._frames(event)

    def _end(self, event: EndEvent) -> JsonObject:
        return end_fields(event, context_status=False)
