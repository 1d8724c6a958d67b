"""The body of `POST /v1/messages` (Anthropic's Messages API), and the agent query it becomes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.http.models.chat import UnsupportedRequest, question_of
from service.http.models.query import NonBlank
from service.upstream.turn import TurnRequest


class TextBlock(BaseModel):
    """A text content block; the only kind of content an agent turn takes from a message."""

    model_config = ConfigDict(extra="forbid", strict=True)

    type: Literal["text"]
    text: str
    cache_control: dict[str, Any] | None = None
    citations: list[dict[str, Any]] | None = None


class MessageParam(BaseModel):
    """One message of the conversation, as Anthropic's Messages API takes it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    role: Literal["user", "assistant"]
    content: str | list[dict[str, Any]]


class MessagesRequest(BaseModel):
    """Anthropic's Messages request; sampling fields are accepted and left to the agent."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: NonBlank = Field(
        description="Echoed in the answer and passed to the agent as its model."
    )
    max_tokens: int = Field(ge=1, description="Required, as Anthropic's API requires it; not used.")
    messages: list[MessageParam] = Field(min_length=1)
    system: str | list[TextBlock] | None = None
    stream: bool = False
    conversation_id: NonBlank | None = Field(
        default=None,
        description=(
            "Extension: continue this agent conversation (the `conversation_id` of the "
            "message); then only the last message is sent to the agent."
        ),
    )
    # Accepted and ignored: the agent's configuration decides these.
    metadata: dict[str, Any] | None = None
    stop_sequences: list[str] | None = None
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, ge=0, le=1)
    service_tier: str | None = None
    # Refused unless absent (see `refusals`).
    tools: list[dict[str, Any]] | None = None
    tool_choice: dict[str, Any] | None = None
    thinking: dict[str, Any] | None = None
    mcp_servers: list[dict[str, Any]] | None = None
    container: str | dict[str, Any] | None = None

    def refusals(self) -> list[str]:
        """Return why each field set to something an agent turn cannot do is refused."""
        agent_tools = "the agent's tools are configured on the service (AGENT_TOOLGROUPS)"
        checks = [
            (bool(self.tools), f"tools: client-defined tools are not supported; {agent_tools}"),
            (
                self.tool_choice not in (None, {"type": "auto"}, {"type": "none"}),
                f"tool_choice: only auto or none is supported; {agent_tools}",
            ),
            (bool(self.mcp_servers), f"mcp_servers: not supported; {agent_tools}"),
            (
                self.thinking not in (None, {"type": "disabled"}),
                "thinking: extended thinking is not supported",
            ),
            (self.container is not None, "container: not supported"),
        ]
        return [cause for refused, cause in checks if refused]

    def to_turn(self) -> TurnRequest:
        """Return the agent turn for this conversation, or raise UnsupportedRequest."""
        refusals = self.refusals()
        if refusals:
            raise UnsupportedRequest("; ".join(refusals))
        turns = [
            (message.role, _text(message, f"messages[{position}]"))
            for position, message in enumerate(self.messages)
        ]
        return TurnRequest(
            query=question_of(turns, continuing=self.conversation_id is not None),
            conversation_id=self.conversation_id,
            model=self.model,
            system_prompt=self._system() or None,
        )

    def _system(self) -> str:
        if isinstance(self.system, str):
            return self.system
        return "\n\n".join(block.text for block in self.system or ())


_REASONING_BLOCKS = frozenset({"thinking", "redacted_thinking"})


def _text(message: MessageParam, where: str) -> str:
    """Return a message's text; a block other than text cannot be part of an agent turn."""
    if isinstance(message.content, str):
        return message.content
    texts = []
    for position, block in enumerate(message.content):
        kind = block.get("type")
        if kind in _REASONING_BLOCKS and message.role == "assistant":
            continue  # the model's reasoning, which Anthropic's API drops from later turns too
        if kind != "text" or not isinstance(block.get("text"), str):
            raise UnsupportedRequest(
                f"{where}.content[{position}]: only text blocks are supported, not {kind!r}: "
                "the agent runs its own tools and takes text"
            )
        texts.append(block["text"])
    return "".join(texts)


class AnthropicMessage(BaseModel):
    """A `message`, as `POST /v1/messages` answers it without `stream` (blocks kept as sent)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    model: str
    content: list[dict[str, Any]]
    stop_reason: str | None
    stop_sequence: str | None
    usage: dict[str, int]
    conversation_id: str | None = Field(
        default=None, description="Extension: send it back to continue the agent conversation."
    )


class AnthropicErrorDetail(BaseModel):
    """What went wrong, as Anthropic's API says it."""

    type: str = Field(examples=["invalid_request_error"])
    message: str


class AnthropicErrorBody(BaseModel):
    """Every error answer of `POST /v1/messages`: Anthropic's error shape."""

    type: Literal["error"] = "error"
    error: AnthropicErrorDetail
