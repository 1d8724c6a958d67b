"""The body of `POST /v1/responses` (OpenAI's Responses API), and the agent query it becomes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from formatters.responses import parse_response_id
from service.conversations.owners import ConversationNotFound
from service.http.models.chat import UnsupportedRequest, question_of
from service.http.models.query import NonBlank
from service.http.request_body import validation_cause
from service.upstream.turn import ApprovalDecision, TurnRequest

_INSTRUCTION_ROLES = ("system", "developer")
_TEXT_PARTS = ("input_text", "output_text", "text")
CLIENT_FUNCTIONS = (
    "tools: client function tools are not supported on /v1/responses yet; the agent's own "
    "tools are configured on the service (AGENT_TOOLGROUPS) and arrive as server-side items"
)


class ConversationRef(BaseModel):
    """`conversation` as an object: the conversation to continue."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: NonBlank


class ResponsesRequest(BaseModel):
    """OpenAI's Responses request; sampling and bookkeeping fields are accepted, not used."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: NonBlank = Field(description="Echoed in the answer and passed to the agent.")
    input: NonBlank | list[dict[str, Any]] = Field(
        description="The user's text, or message items (`role` and text `content`), or "
        "`mcp_approval_response` items answering the previous response's approval requests."
    )
    instructions: str | None = None
    stream: bool = False
    previous_response_id: NonBlank | None = Field(
        default=None, description="Continue the conversation of this earlier response."
    )
    conversation: NonBlank | ConversationRef | None = Field(
        default=None,
        description="Continue this conversation (the `conversation.id` of a response).",
    )
    # Accepted and ignored: the agent's configuration decides these.
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    parallel_tool_calls: bool | None = None
    store: bool | None = None
    metadata: dict[str, str] | None = None
    user: str | None = None
    service_tier: str | None = None
    truncation: str | None = None
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None
    include: list[str] | None = None
    reasoning: dict[str, Any] | None = None
    text: dict[str, Any] | None = None
    stream_options: dict[str, Any] | None = None
    # Refused unless absent or left at what an agent turn does anyway (see `refusals`).
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    background: bool | None = None
    prompt: dict[str, Any] | None = None
    top_logprobs: int | None = None

    def refusals(self) -> list[str]:
        """Return why each field set to something an agent turn cannot do is refused."""
        tools = self.tools or []
        functions = any(tool.get("type") in ("function", "custom") for tool in tools)
        checks = [
            (functions, CLIENT_FUNCTIONS),
            (
                bool(tools) and not functions,
                "tools: the agent's tools are configured on the service (AGENT_TOOLGROUPS)",
            ),
            (
                self.tool_choice not in (None, "auto", "none"),
                "tool_choice: only 'auto' or 'none' is supported",
            ),
            (bool(self.background), "background: background responses are not supported"),
            (self.prompt is not None, "prompt: prompt templates are not supported"),
            (self.top_logprobs is not None, "top_logprobs: not supported"),
            (
                self.previous_response_id is not None and self.conversation is not None,
                "previous_response_id and conversation: send one of them, not both",
            ),
        ]
        return [cause for refused, cause in checks if refused]

    def conversation_id(self) -> str | None:
        """Return the conversation to continue; ConversationNotFound for an id not ours."""
        if isinstance(self.conversation, ConversationRef):
            return self.conversation.id
        if self.conversation is not None:
            return self.conversation
        if self.previous_response_id is None:
            return None
        parsed = parse_response_id(self.previous_response_id)
        if parsed is None:
            raise ConversationNotFound()
        return parsed[1]

    def to_turn(self) -> TurnRequest:
        """Return the agent turn for this request, or raise UnsupportedRequest."""
        refusals = self.refusals()
        if refusals:
            raise UnsupportedRequest("; ".join(refusals))
        conversation_id = self.conversation_id()
        instructions = [self.instructions] if self.instructions else []
        turns: list[tuple[str, str]] = []
        items = (
            [{"role": "user", "content": self.input}] if isinstance(self.input, str) else self.input
        )
        if any(item.get("type") == APPROVAL_RESPONSE for item in items):
            return self._decided(items, conversation_id)
        for position, item in enumerate(items):
            role, text = _message(item, f"input[{position}]")
            if role in _INSTRUCTION_ROLES:
                instructions.append(text)
            else:
                turns.append((role, text))
        if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
            raise UnsupportedRequest("input: the last item must be a user message with text")
        return TurnRequest(
            query=question_of(turns, continuing=conversation_id is not None),
            conversation_id=conversation_id,
            model=self.model,
            system_prompt="\n\n".join(instructions) or None,
        )

    def _decided(self, items: list[dict[str, Any]], conversation_id: str | None) -> TurnRequest:
        """Return the turn that goes on with the `mcp_approval_response` items' decisions.

        Copies of the `mcp_approval_request` items they answer may come along (OpenAI's
        clients send them back with the conversation's items); the service knows what it asked.
        """
        if conversation_id is None:
            raise UnsupportedRequest(
                "input: an mcp_approval_response answers an earlier response: send its "
                "previous_response_id or its conversation"
            )
        decisions = [
            approval_decision(item, f"input[{position}]")
            for position, item in enumerate(items)
            if item.get("type") != APPROVAL_REQUEST
        ]
        return TurnRequest(
            query="",
            conversation_id=conversation_id,
            model=self.model,
            system_prompt=self.instructions or None,
            approval_decisions=tuple(decisions),
        )


APPROVAL_REQUEST = "mcp_approval_request"
APPROVAL_RESPONSE = "mcp_approval_response"


class ApprovalResponseItem(BaseModel):
    """An `mcp_approval_response` input item: the decision on an `mcp_approval_request`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    type: Literal["mcp_approval_response"]
    approval_request_id: NonBlank
    approve: bool
    reason: str | None = None
    id: str | None = None


def approval_decision(item: dict[str, Any], where: str) -> ApprovalDecision:
    """Return an `mcp_approval_response` item's decision; UnsupportedRequest for another item."""
    if item.get("type") != APPROVAL_RESPONSE:
        raise UnsupportedRequest(
            f"{where}: with mcp_approval_response items, send only those (and copies of the "
            f"mcp_approval_request items they answer), not type {item.get('type', 'message')!r}"
        )
    try:
        response = ApprovalResponseItem.model_validate(item)
    except ValidationError as exc:
        raise UnsupportedRequest(f"{where}: {validation_cause(exc)}") from None
    return ApprovalDecision(
        approval_id=response.approval_request_id, approved=response.approve, reason=response.reason
    )


def _message(item: dict[str, Any], where: str) -> tuple[str, str]:
    """Return one input item's role and text; UnsupportedRequest unless it is a text message."""
    kind, role = item.get("type", "message"), item.get("role")
    if kind != "message" or role not in ("user", "assistant", "system", "developer"):
        raise UnsupportedRequest(
            f"{where}: only message items (role user, assistant, system or developer) are "
            f"supported, not type {kind!r}; the agent runs its own tools"
        )
    content = item.get("content")
    if isinstance(content, str):
        return role, content
    if not isinstance(content, list):
        raise UnsupportedRequest(f"{where}.content: send text or a list of text parts")
    texts = []
    for index, part in enumerate(content):
        text = part.get("text") if isinstance(part, dict) else None
        if (
            not isinstance(part, dict)
            or part.get("type") not in _TEXT_PARTS
            or not isinstance(text, str)
        ):
            kind = part.get("type") if isinstance(part, dict) else type(part).__name__
            raise UnsupportedRequest(
                f"{where}.content[{index}]: content parts of type {kind!r} are not supported; "
                "send text"
            )
        texts.append(text)
    return role, "\n".join(texts)
