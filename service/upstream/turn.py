"""The turn an adapter is asked to run: what every route's body model becomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

FunctionChoice = Literal["auto", "none", "required"]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A document sent along with the question, given to the agent as text."""

    attachment_type: str
    content_type: str
    content: str


@dataclass(frozen=True, slots=True)
class ClientFunction:
    """A function of the client's own, offered to the model; the client runs it, not the agent."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


@dataclass(frozen=True, slots=True)
class FunctionOutput:
    """What a client's function returned, for the upstream's call id it answers."""

    call_id: str
    output: str


@dataclass(frozen=True, slots=True)
class AskedApproval:
    """A tool call the agent asked approval for, as the next upstream request must repeat it."""

    approval_id: str
    name: str
    arguments: str
    """The call's arguments as JSON text, as the upstream sent them."""
    server_label: str = ""


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    """A client's answer to an approval request.

    `asked` is the request it answers, filled in by the service from its approval desk (which
    also checks the caller may decide it) before an adapter sees the turn.
    """

    approval_id: str
    approved: bool
    reason: str | None = None
    asked: AskedApproval | None = None


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """One agent turn: the question, where it goes on, and what the agent may use.

    With `function_outputs` or `approval_decisions`, `conversation_id` is the paused
    conversation and `query` is empty.
    """

    query: str
    conversation_id: str | None = None
    model: str | None = None
    provider: str | None = None
    system_prompt: str | None = None
    no_tools: bool = False
    attachments: tuple[Attachment, ...] = ()
    vector_store_ids: tuple[str, ...] = ()
    """The vector stores to search instead of the configured ones; none: the configured ones."""
    functions: tuple[ClientFunction, ...] = ()
    function_choice: FunctionChoice = "auto"
    forced_function: str | None = None
    """The one function the model must call (with `required`)."""
    function_outputs: tuple[FunctionOutput, ...] = ()
    approval_decisions: tuple[ApprovalDecision, ...] = ()
    """Decisions on the approval requests the paused turn is waiting for."""

    @property
    def client_tools(self) -> bool:
        """Whether the turn offers the client's functions or goes on with their outputs."""
        return bool(self.functions or self.function_outputs)

    def vector_stores(self, configured: list[str]) -> list[str]:
        """Return the stores this turn searches: the requested ones, else `configured`."""
        return list(self.vector_store_ids or configured)
