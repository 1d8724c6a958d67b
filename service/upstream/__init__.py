"""Upstream adapters: what the service asks of an agent backend, and the errors they raise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from formatters.events import Event
from service.request_models import QueryRequest


@dataclass(frozen=True, slots=True)
class Turn:
    """A started agent turn: its conversation id and its normalized events."""

    conversation_id: str
    events: AsyncIterator[Event]


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether the upstream answers, and why not."""

    ready: bool
    reason: str = ""


class UpstreamUnavailable(Exception):
    """The upstream could not start a turn; `reason` is safe to show to a client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UpstreamStreamError(Exception):
    """The upstream stream broke mid-turn; `message` is safe to show to a client."""

    def __init__(self, message: str, code: str = "upstream_disconnected") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


LOST_UPSTREAM = "The connection to the agent was lost before the answer was complete."


class Upstream(Protocol):
    """An agent backend that can stream a turn."""

    name: str

    async def start_turn(self, query: QueryRequest) -> Turn:
        """Start one turn; raise UpstreamUnavailable if it cannot start."""
        ...

    async def readiness(self) -> Readiness:
        """Ask the backend whether it can serve turns."""
        ...
