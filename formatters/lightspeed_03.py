"""The `lightspeed-0.3` format: lightspeed-stack 0.3.0's `/v1/streaming_query` frames, exactly."""

from __future__ import annotations

from formatters.base import Comment, Frame, FrameValue
from formatters.events import (
    EndEvent,
    Event,
    HeartbeatEvent,
    JsonObject,
    StartEvent,
    TextDeltaEvent,
    TurnAwaitingInputEvent,
    TurnCompleteEvent,
    TurnStartEvent,
)
from formatters.lightspeed_01 import end_frame, frame, start_frame
from formatters.lightspeed_02 import Lightspeed02Formatter


class Lightspeed03Formatter(Lightspeed02Formatter):
    """lightspeed-stack 0.3.0's SSE dialect (its #519): 0.2's frames without `role`.

    A tool result is its own `tool_result` event; the turn's start repeats the `start` frame;
    `turn_complete` has no id; a chunk it does not handle is a `heartbeat` token; `end` gains
    `rag_chunks`.
    """

    name = "lightspeed-0.3"
    description = "lightspeed-stack 0.3.x /v1/streaming_query frames, byte for byte"
    result_event = "tool_result"

    def __init__(self) -> None:
        super().__init__()
        self._conversation_id = ""

    def format(self, event: Event) -> list[FrameValue]:
        """Return the frames for one event; the gateway's own heartbeats are SSE comments.

        0.3.0 sends `heartbeat` as a *token* (for a chunk it does not handle), which frontends
        append to the answer: we send that for such chunks, as 0.3.0 does, but keep the
        connection alive with comments, which every SSE reader ignores.
        """
        if type(event) is HeartbeatEvent and event.chunk is None:
            return [Comment("heartbeat")]
        return super().format(event)

    def _frames(self, event: Event) -> list[FrameValue]:
        match event:
            case StartEvent(conversation_id=conversation_id):
                self._conversation_id = conversation_id
                return super()._frames(event)
            case TurnStartEvent() | TurnAwaitingInputEvent():
                return [start_frame(self._conversation_id)]
            case TurnCompleteEvent(text=text):
                return [frame("turn_complete", {"token": text})]
            case HeartbeatEvent():
                return [self._token("token", "heartbeat")]
            case EndEvent():
                return [end_frame(event, {"rag_chunks": []})]
            case _:
                return super()._frames(event)

    def _text_delta(self, event: TextDeltaEvent) -> list[FrameValue]:
        return [self._token("token", event.text)]

    def _token(self, name: str, token: str, role: str | None = None) -> Frame:
        return super()._token(name, token)

    def _object_token(self, name: str, token: JsonObject, role: str | None) -> Frame:
        return super()._object_token(name, token, None)
