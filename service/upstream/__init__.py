"""Upstream adapters: what the service asks of an agent backend, and the errors they raise."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import structlog

from formatters.events import ErrorEvent, Event, TurnAwaitingInputEvent, TurnCompleteEvent
from service.upstream.sse import MAX_EVENT_BYTES
from service.upstream.turn import TurnRequest

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Turn:
    """A started agent turn: its conversation id and its normalized events."""

    conversation_id: str
    events: AsyncIterator[Event]


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model the upstream serves, with what both OpenAI's list and lightspeed-stack's show."""

    id: str
    model_type: str
    provider_id: str = ""
    provider_resource_id: str = ""
    created: int = 0
    owned_by: str = "llama_stack"
    metadata: dict[str, object] = field(default_factory=dict)


Speaker = Literal["user", "assistant"]
"""Who wrote a message of a conversation's history."""


@dataclass(frozen=True, slots=True)
class HistoryTurn:
    """One turn of a conversation's history: its messages as (speaker, text), and when it ran."""

    messages: tuple[tuple[Speaker, str], ...]
    started_at: str = ""
    completed_at: str = ""
    model: str = ""
    provider: str = ""


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether the upstream answers; why not (`reason`, for anyone; `detail`, for the log)."""

    ready: bool
    reason: str = ""
    detail: str = ""


class ReadinessCache:
    """Reuses an upstream's readiness answer for `seconds`; a not-ready answer is logged."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._answer: tuple[float, Readiness] | None = None

    async def get(self, ask: Callable[[], Awaitable[Readiness]]) -> Readiness:
        """Return the cached answer while it is fresh, else `ask` the upstream again."""
        now = time.monotonic()
        if self._answer and now - self._answer[0] < self._seconds:
            return self._answer[1]
        answer = await ask()
        if not answer.ready:
            details = {"detail": answer.detail} if answer.detail else {}
            log.warning("upstream not ready", reason=answer.reason, **details)
        self._answer = (now, answer)
        return answer


def requested_model(query: TurnRequest) -> str | None:
    """Return the model the request names (`provider/model` when both are given), or None."""
    if not query.model:
        return None
    if query.provider and not query.model.startswith(f"{query.provider}/"):
        return f"{query.provider}/{query.model}"
    return query.model


class UpstreamUnavailable(Exception):
    """The upstream could not start a turn: `reason` for anyone (no address), `detail` for logs."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason} ({detail})" if detail else reason)
        self.reason = reason
        self.detail = detail


class UpstreamStreamError(Exception):
    """The upstream stream broke mid-turn; `message` is safe to show to a client.

    `chunk` is the position of the upstream chunk that was an error (an SSE `error` line the
    client library raises as an exception); None when the gateway found the failure itself.
    """

    def __init__(
        self, message: str, code: str = "upstream_disconnected", chunk: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.chunk = chunk


LOST_UPSTREAM = "The connection to the agent was lost before the answer was complete."
TRUNCATED = "The agent's stream ended before the answer was complete."
TOO_LARGE = (
    f"The agent sent an event larger than the {MAX_EVENT_BYTES // 2**20} MiB this service accepts."
)

TURN_ENDS = frozenset({TurnCompleteEvent, TurnAwaitingInputEvent, ErrorEvent})
"""The types of the events that end a turn: an upstream body that ends before one is cut short."""


class Upstream(Protocol):
    """An agent backend that can stream a turn."""

    name: str
    client_functions: bool
    """Whether a turn can offer the client's own functions (`TurnRequest.functions`)."""

    async def start_turn(self, query: TurnRequest, *, owner: str | None = None) -> Turn:
        """Start one turn; raise UpstreamUnavailable if it cannot start.

        `owner` is the caller's owner digest (service.conversations.owners), None with auth
        off: a new conversation is bound to it, and a `conversation_id` not bound to it raises
        ConversationNotFound (404).
        """
        ...

    async def readiness(self) -> Readiness:
        """Ask the backend whether it can serve turns."""
        ...

    async def models(self) -> list[ModelInfo]:
        """List the backend's models; raise UpstreamUnavailable if it does not answer."""
        ...

    async def history(self, conversation_id: str, owner: str | None) -> list[HistoryTurn]:
        """Return the conversation's turns; ConversationNotFound unless `owner` may read it."""
        ...

    async def delete(self, conversation_id: str, owner: str | None) -> None:
        """Delete the conversation upstream, forget its binding; ConversationNotFound as above."""
        ...
