"""The `patternfly` format: our lightspeed-shaped dialect, made for today's PatternFly frontends."""

from __future__ import annotations

from formatters.approval_words import approval_required, refused_result
from formatters.base import FrameValue
from formatters.events import (
    ApprovalRequestEvent,
    ApprovalResultEvent,
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    JsonObject,
    ReasoningDeltaEvent,
    StartEvent,
    TextDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnCompleteEvent,
)
from formatters.gateway_errors import title
from formatters.lightspeed_01 import Lightspeed01Formatter, frame
from formatters.lightspeed_02 import tool_result_token
from formatters.lightspeed_07 import reasoning_frame

_TOOL_EXECUTION = "tool_execution"
_INTERRUPTED = "interrupted"


class PatternflyFormatter(Lightspeed01Formatter):
    """lightspeed-stack's frames as the Ansible chatbot and lightspeed-reference-ui render them.

    Only what a user should see: answer text as `token`s (never shield verdicts, empty tokens
    or the model's half-written tool calls), each tool call as one `tool_call` frame whose
    token is `{tool_name, call_id, arguments}`, its result as one more (`{tool_name, call_id,
    status, summary | response}`), every error as `error{id, token, response, cause}`, an
    interrupt as `interrupted` with the same fields, the model's reasoning as
    lightspeed-service's `reasoning{id, reasoning}`. docs/formats.md documents each field.
    """

    name = "patternfly"
    aliases = ("lightspeed",)
    description = (
        "lightspeed-shaped frames for PatternFly chatbot frontends (Ansible, reference UI)"
    )
    reports_usage = True

    def __init__(self) -> None:
        super().__init__()
        self._calls: set[str] = set()
        self._text_sent = False

    def _text_delta(self, event: TextDeltaEvent) -> list[FrameValue]:
        return self._text(event.text, event.step)

    def _frames(self, event: Event) -> list[FrameValue]:
        match event:
            case StartEvent() | HeartbeatEvent() | EndEvent():
                return super()._frames(event)
            case ToolCallEvent(call_id=call_id) if call_id not in self._calls:
                self._calls.add(call_id)
                call = {"tool_name": event.name, "call_id": call_id}
                return [self._object("tool_call", {**call, "arguments": _object(event.arguments)})]
            case ToolResultEvent(name=name, content=content, failed=failed):
                status = "failure" if failed else "success"
                head = {"tool_name": name, "call_id": event.call_id, "status": status}
                result = {**head, **tool_result_token(name, content)}
                return [self._object("tool_call", result)]
            case ReasoningDeltaEvent(text=text) if text:
                return [reasoning_frame(self._id, text)]
            case ApprovalRequestEvent():
                return [frame("approval_required", approval_required(event))]
            case ApprovalResultEvent():
                refused = [] if event.approved else self._frames(refused_result(event))
                return [frame("approval_result", approval_result(event)), *refused]
            case TurnCompleteEvent(text=text):
                # a turn that streamed no text (a shield's refusal) gets its answer as a token
                answer = [] if self._text_sent else self._text(text, "inference")
                return [*answer, frame("turn_complete", {"id": self._id, "token": text})]
            case ErrorEvent(message=message):
                data = {
                    "id": self._id,
                    "token": message,
                    "response": title(event),
                    "cause": message,
                }
                kind = _INTERRUPTED if event.code == _INTERRUPTED else "error"
                return [frame(kind, data)]
        return []

    def _text(self, text: str, step: str | None) -> list[FrameValue]:
        if not text:
            return []
        self._text_sent = True
        return [self._token("token", text, step or "inference")]

    def _object(self, name: str, token: JsonObject) -> FrameValue:
        return frame(name, {"id": self._id, "role": _TOOL_EXECUTION, "token": token})


def approval_result(event: ApprovalResultEvent) -> JsonObject:
    """Return the `approval_result` frame's data: the decision on an `approval_required`."""
    return {
        "approval_id": event.approval_id,
        "tool_call_id": event.call_id,
        "tool_name": event.name,
        "decision": event.decision,
        "reason": event.reason,
    }


def _object(arguments: JsonObject | str) -> JsonObject:
    """Tool arguments as an object, which a tool card needs: other text is `{"input": text}`."""
    if isinstance(arguments, dict):
        return arguments
    return {"input": arguments} if arguments.strip() else {}
