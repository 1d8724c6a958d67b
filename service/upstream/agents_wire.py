"""Pydantic models of llama-stack's Agents turn stream wire JSON (llama-stack up to 0.3)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WireText(_Wire):
    """A text content item."""

    type: Literal["text"]
    text: str


class WireImageURL(_Wire):
    """An image URL wrapper."""

    uri: str


class WireImage(_Wire):
    """An image reference: URL or base64 data."""

    url: WireImageURL | None = None
    data: str | None = None


class WireImageItem(_Wire):
    """An image content item."""

    type: Literal["image"]
    image: WireImage


WireContentItem = Annotated[WireText | WireImageItem, Field(discriminator="type")]
WireContent = str | WireContentItem | list[WireContentItem]


class WireToolCall(_Wire):
    """A complete tool call."""

    call_id: str
    tool_name: str
    arguments: dict[str, Any] | str
    arguments_json: str | None = None


class WireTextDelta(_Wire):
    """A text delta of an inference step."""

    type: Literal["text"]
    text: str


class WireToolCallDelta(_Wire):
    """A tool-call delta: raw text while parsing, the whole call once parsed."""

    type: Literal["tool_call"]
    tool_call: str | WireToolCall
    parse_status: str | None = None


class WireImageDelta(_Wire):
    """An image delta (lightspeed shows nothing for it)."""

    type: Literal["image"]


WireDelta = Annotated[
    WireTextDelta | WireToolCallDelta | WireImageDelta, Field(discriminator="type")
]


class WireViolation(_Wire):
    """A shield violation."""

    user_message: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    violation_level: str | None = None


class WireToolResponse(_Wire):
    """What one tool returned."""

    call_id: str
    tool_name: str
    content: WireContent
    metadata: dict[str, Any] | None = None


class WireStepDetails(_Wire):
    """The details of a completed step; which fields are set depends on the step type."""

    violation: WireViolation | None = None
    tool_calls: list[WireToolCall] = Field(default_factory=list)
    tool_responses: list[WireToolResponse] = Field(default_factory=list)


class WireStepStart(_Wire):
    """step_start payload."""

    event_type: Literal["step_start"]
    step_type: str | None = None


class WireStepProgress(_Wire):
    """step_progress payload."""

    event_type: Literal["step_progress"]
    step_type: str | None = None
    delta: WireDelta | None = None


class WireStepComplete(_Wire):
    """step_complete payload."""

    event_type: Literal["step_complete"]
    step_type: str | None = None
    step_details: WireStepDetails = Field(default_factory=WireStepDetails)


class WireMessage(_Wire):
    """The assistant's output message."""

    content: WireContent = ""


class WireTurn(_Wire):
    """A turn, as carried by turn_complete and turn_awaiting_input."""

    output_message: WireMessage = Field(default_factory=WireMessage)


class WireTurnStart(_Wire):
    """turn_start payload."""

    event_type: Literal["turn_start"]


class WireTurnComplete(_Wire):
    """turn_complete payload."""

    event_type: Literal["turn_complete"]
    turn: WireTurn = Field(default_factory=WireTurn)


class WireTurnAwaitingInput(_Wire):
    """turn_awaiting_input payload."""

    event_type: Literal["turn_awaiting_input"]


WirePayload = Annotated[
    WireStepStart
    | WireStepProgress
    | WireStepComplete
    | WireTurnStart
    | WireTurnComplete
    | WireTurnAwaitingInput,
    Field(discriminator="event_type"),
]


class WireEvent(_Wire):
    """The `event` member of a chunk."""

    payload: WirePayload


class WireEventChunk(_Wire):
    """One turn-stream chunk carrying an event."""

    event: WireEvent


class WireErrorChunk(_Wire):
    """One turn-stream chunk carrying an error (llama-stack's last chunk when the turn fails)."""

    error: dict[str, Any]
