"""The `lightspeed-0.2` format: lightspeed-stack 0.2.0's `/v1/streaming_query` frames, exactly."""

from __future__ import annotations

import json

from formatters.base import Frame, FrameValue
from formatters.events import ContentItem, Event, JsonObject, ToolCallEvent, ToolResultEvent
from formatters.lightspeed_01 import Lightspeed01Formatter
from formatters.pyrepr import client_arguments, interleaved_text, knowledge_search_summary

_TOOL_EXECUTION = "tool_execution"


class Lightspeed02Formatter(Lightspeed01Formatter):
    """lightspeed-stack 0.2.0's SSE dialect: 0.1's frames, a run tool call and result as objects.

    The objects are `{tool_name, arguments}` and `{tool_name, summary | response}`.
    """

    name = "lightspeed-0.2"
    description = "lightspeed-stack 0.2.x /v1/streaming_query frames, byte for byte"
    result_event = "tool_call"
    """The event name of a tool result's frame."""

    def _frames(self, event: Event) -> list[FrameValue]:
        match event:
            case ToolCallEvent(step="tool_execution", name=name, arguments=arguments):
                token = {"tool_name": name, "arguments": client_arguments(arguments)}
                return [self._object_token("tool_call", token, _TOOL_EXECUTION)]
            case ToolResultEvent(name=name, content=content, step=step):
                token = {"tool_name": name, **tool_result_token(name, content)}
                return [self._object_token(self.result_event, token, step or _TOOL_EXECUTION)]
            case _:
                return super()._frames(event)

    def _object_token(self, name: str, token: JsonObject, role: str | None) -> Frame:
        data: JsonObject = {"id": self._id, "role": role, "token": token}
        if role is None:
            del data["role"]
        return Frame(json.dumps({"event": name, "data": data}))


def tool_result_token(name: str, content: str | list[ContentItem]) -> JsonObject:
    """Return a tool result's `summary` (knowledge_search) or `response`, as 0.2.0 words them."""
    if name == "query_from_memory":
        return {"response": f"Fetched {len(interleaved_text(content))} bytes from memory"}
    if name == "knowledge_search" and content:
        return {"summary": knowledge_search_summary(content)}
    return {"response": interleaved_text(content)}
