"""Normalized stream events: the one model the service produces and every formatter consumes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

JsonObject = dict[str, Any]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TextContent(_Model):
    """A piece of text inside a tool result."""

    type: Literal["text"] = "text"
    text: str


class ImageContent(_Model):
    """An image inside a tool result, given by URL or by base64 data."""

    type: Literal["image"] = "image"
    url: str | None = None
    data: str | None = None


ContentItem = Annotated[TextContent | ImageContent, Field(discriminator="type")]


class Document(_Model):
    """A document the agent retrieved (knowledge_search / file_search)."""

    url: str
    title: str
    document_id: str | None = None


class ShieldViolation(_Model):
    """What a safety shield objected to."""

    user_message: str | None = None
    metadata: JsonObject = Field(default_factory=dict)
    level: str | None = None


class _Event(_Model):
    chunk: int | None = Field(
        default=None,
        description=(
            "Position of the upstream chunk this event came from; events that share it were "
            "produced by one chunk. None for events the gateway makes itself."
        ),
    )


class _StepEvent(_Event):
    step: str | None = Field(
        default=None,
        description="The agent step that produced this event (inference, tool_execution, ...).",
    )


class StartEvent(_Event):
    """The stream has started; `conversation_id` continues this conversation next time."""

    type: Literal["start"] = "start"
    conversation_id: str


class TurnStartEvent(_Event):
    """The agent started working on the turn."""

    type: Literal["turn_start"] = "turn_start"


class TurnAwaitingInputEvent(_Event):
    """The turn paused until the client supplies tool results or approval decisions."""

    type: Literal["turn_awaiting_input"] = "turn_awaiting_input"


class StepStartEvent(_StepEvent):
    """An agent step began (inference, tool_execution, shield_call)."""

    type: Literal["step_start"] = "step_start"


class StepEndEvent(_StepEvent):
    """An agent step finished."""

    type: Literal["step_end"] = "step_end"


class TextDeltaEvent(_StepEvent):
    """A piece of the answer text."""

    type: Literal["text_delta"] = "text_delta"
    text: str


class ReasoningDeltaEvent(_StepEvent):
    """A piece of the model's reasoning: not part of the answer; formats may leave it out."""

    type: Literal["reasoning_delta"] = "reasoning_delta"
    text: str


class ToolCallDeltaEvent(_StepEvent):
    """A piece of a tool call while the model is still producing it."""

    type: Literal["tool_call_delta"] = "tool_call_delta"
    call_id: str | None = None
    name: str | None = None
    delta: str


class ToolCallEvent(_StepEvent):
    """A complete tool call: announced by the model (step inference) or run (tool_execution)."""

    type: Literal["tool_call"] = "tool_call"
    call_id: str
    name: str
    arguments: JsonObject | str


class ApprovalRequestEvent(_StepEvent):
    """The agent wants to run a tool that needs a person's approval; the turn waits for it.

    `call_id` is the id of the `tool_call` event announcing the same call (for an MCP approval
    request, the approval id itself).
    """

    type: Literal["approval_request"] = "approval_request"
    approval_id: str
    call_id: str
    name: str
    arguments: JsonObject | str
    server_label: str | None = None
    description: str | None = None


ApprovalDecisionKind = Literal["approved", "denied", "expired", "unanswerable"]
"""How an approval request ended: decided either way by the client, left undecided until it
expired, or denied by the gateway because the client's format cannot answer approvals."""


class ApprovalResultEvent(_StepEvent):
    """The decision on an approval request; `reason` says why, in words for a person."""

    type: Literal["approval_result"] = "approval_result"
    approval_id: str
    call_id: str
    name: str
    decision: ApprovalDecisionKind
    reason: str | None = None

    @property
    def approved(self) -> bool:
        """Whether the tool may run."""
        return self.decision == "approved"


class ToolResultEvent(_StepEvent):
    """What a tool returned."""

    type: Literal["tool_result"] = "tool_result"
    call_id: str
    name: str
    content: str | list[ContentItem]
    failed: bool = False


class ShieldEvent(_StepEvent):
    """A safety shield's verdict: a violation, or passed when `violation` is None."""

    type: Literal["shield"] = "shield"
    violation: ShieldViolation | None = None


class DocumentsEvent(_StepEvent):
    """Documents a retrieval tool returned."""

    type: Literal["documents"] = "documents"
    documents: list[Document]


class UsageEvent(_Event):
    """Token counts and truncation reported by the upstream for the turn."""

    type: Literal["usage"] = "usage"
    input_tokens: int = 0
    output_tokens: int = 0
    truncated: bool | None = None


class TurnCompleteEvent(_Event):
    """The turn finished; `text` is the full answer."""

    type: Literal["turn_complete"] = "turn_complete"
    text: str


class ErrorEvent(_Event):
    """The turn failed; `message` is safe to show to a user."""

    type: Literal["error"] = "error"
    message: str
    source: Literal["upstream", "gateway"] = "upstream"
    code: str = "upstream_error"


class HeartbeatEvent(_Event):
    """Nothing to report yet; the connection is alive."""

    type: Literal["heartbeat"] = "heartbeat"


class EndEvent(_Event):
    """The last event of every stream."""

    type: Literal["end"] = "end"
    referenced_documents: list[Document] = Field(default_factory=list)
    truncated: bool | None = None
    input_tokens: int = 0
    output_tokens: int = 0


Event = Annotated[
    StartEvent
    | TurnStartEvent
    | TurnAwaitingInputEvent
    | StepStartEvent
    | StepEndEvent
    | TextDeltaEvent
    | ReasoningDeltaEvent
    | ToolCallDeltaEvent
    | ToolCallEvent
    | ApprovalRequestEvent
    | ApprovalResultEvent
    | ToolResultEvent
    | ShieldEvent
    | DocumentsEvent
    | UsageEvent
    | TurnCompleteEvent
    | ErrorEvent
    | HeartbeatEvent
    | EndEvent,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_json_schema() -> JsonObject:
    """Return the JSON Schema of the normalized event model."""
    return EVENT_ADAPTER.json_schema()


IMAGE_PLACEHOLDER = "<image>"
"""What an image stands for where content is rendered as text."""


def content_text(content: str | Iterable[object], separator: str = " ") -> str:
    """Render content as text: each text item's text, `<image>` for any other, joined.

    Items are ours (TextContent, ImageContent) or an upstream's: anything with a `text`
    string is text.
    """
    if isinstance(content, str):
        return content
    return separator.join(_item_text(item) for item in content)


def _item_text(item: object) -> str:
    text = getattr(item, "text", None)
    return text if isinstance(text, str) else IMAGE_PLACEHOLDER
