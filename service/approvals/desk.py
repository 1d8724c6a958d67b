"""The approval desk's entries, refusals and contract, and the in-process desk."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from service.conversations.lru import Lru
from service.errors import Rejected, refusal
from service.route_spec import Answer
from service.upstream.turn import AskedApproval

State = Literal["pending", "decided", "expired"]

MEMORY_APPROVALS = 100_000
"""Most entries the in-process desk keeps (the least recently used go first)."""


@dataclass(frozen=True, slots=True)
class Approval:
    """One approval request on the desk: whose it is, what it asks, and how it stands.

    `expires_at` is wall-clock time (seconds since the epoch), the same on every replica.
    """

    asked: AskedApproval
    call_id: str
    owner: str | None
    conversation_id: str
    expires_at: float
    state: State = "pending"
    approved: bool = False
    reason: str | None = None

    @property
    def approval_id(self) -> str:
        """The id the decision names."""
        return self.asked.approval_id

    def now_state(self, now: float) -> State:
        """Return the state at wall-clock `now`: a pending entry past its time has expired."""
        if self.state == "pending" and now >= self.expires_at:
            return "expired"
        return self.state


class ApprovalNotFound(Rejected):
    """404: no approval request of the caller's has this id (unknown, gone, or another's)."""

    def __init__(self) -> None:
        super().__init__(
            404,
            "Approval request not found",
            "No approval request of yours has this id in this conversation: unknown, no longer"
            " kept, or someone else's.",
        )


class ApprovalClosed(Rejected):
    """409: the approval request was decided already, or it expired undecided."""

    def __init__(self, state: State) -> None:
        cause = (
            "This approval request was decided already."
            if state == "decided"
            else "This approval request expired before a decision came; the tool was not run."
        )
        super().__init__(409, "Approval request closed", cause)


class ApprovalsUnavailable(Rejected):
    """503: the shared desk does not answer, so no decision can be taken or checked."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "Unable to reach the approval desk",
            "The store of approval requests does not answer; retry later.",
        )


APPROVAL_REFUSALS: dict[int, Answer] = {
    404: refusal(
        "No approval request of the caller's has this `approval_id` (in this conversation):"
        " unknown, dropped with its cancelled turn, no longer kept, or someone else's; one"
        " answer for all."
    ),
    409: refusal("The approval request was decided already, or it expired undecided."),
    503: refusal("The store of approval requests (Redis) does not answer."),
}
"""What deciding an approval request may refuse: declared by every route that takes decisions."""


class ApprovalDesk(Protocol):
    """Keeps approval requests until decided or expired; every replica sees the same entries."""

    async def record(self, approvals: Sequence[Approval]) -> None:
        """Put pending approval requests on the desk."""
        ...

    async def get(self, approval_id: str) -> Approval | None:
        """Return the entry as it stands now (expired once past its time), or None."""
        ...

    async def decide(
        self,
        approval_id: str,
        owner: str | None,
        approved: bool,
        reason: str | None = None,
        *,
        conversation_id: str | None = None,
    ) -> Approval:
        """Decide a pending request of `owner`'s (in `conversation_id`, when given).

        ApprovalNotFound if it is unknown, another owner's or another conversation's;
        ApprovalClosed if it was decided already or has expired.
        """
        ...

    async def expire(self, approval_id: str) -> Approval | None:
        """Close a pending request as expired; return the entry as it ends (a decision wins)."""
        ...

    async def wait(self, approval_ids: Iterable[str], seconds: float) -> None:
        """Return when one of these entries may have changed, or after `seconds`."""
        ...

    async def reopen(self, approval_ids: Iterable[str]) -> None:
        """Make decided entries pending again: the turn they were for could not go on."""
        ...

    async def drop(self, approval_ids: Iterable[str]) -> None:
        """Forget these entries (their turn was cancelled): a later decision is a 404."""
        ...

    async def close(self) -> None:
        """Release the desk's resources."""
        ...


def check_decidable(
    entry: Approval | None, owner: str | None, conversation_id: str | None, now: float
) -> Approval:
    """Return the entry if `owner` may decide it now; raise the refusal otherwise."""
    if entry is None or entry.owner != owner:
        raise ApprovalNotFound()
    if conversation_id is not None and entry.conversation_id != conversation_id:
        raise ApprovalNotFound()
    state = entry.now_state(now)
    if state != "pending":
        raise ApprovalClosed(state)
    return entry


class Waiters:
    """The local waits on approval ids: woken when this process sees one of them change."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Future[None]]] = {}

    async def wait(self, approval_ids: Iterable[str], seconds: float) -> None:
        """Wait until `wake` names one of the ids, or for `seconds`."""
        ids = list(approval_ids)
        waiter = asyncio.get_running_loop().create_future()
        for approval_id in ids:
            self._waiting.setdefault(approval_id, set()).add(waiter)
        try:
            await asyncio.wait({waiter}, timeout=seconds)
        finally:
            for approval_id in ids:
                waiters = self._waiting.get(approval_id)
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._waiting[approval_id]

    def wake(self, approval_id: str) -> None:
        """Wake the waits on this id."""
        for waiter in self._waiting.get(approval_id, ()):
            if not waiter.done():
                waiter.set_result(None)


class MemoryDesk:
    """Approval requests of this process only: unknown to other replicas, lost on restart.

    An entry is kept for `keep` seconds after it expires, so a late decision is a 409.
    """

    def __init__(self, keep: float, size: int = MEMORY_APPROVALS) -> None:
        self._keep = keep
        self._entries: Lru[str, Approval] = Lru(size)
        self._waiters = Waiters()

    async def record(self, approvals: Sequence[Approval]) -> None:
        """Put pending approval requests on the desk."""
        for approval in approvals:
            self._entries.put(approval.approval_id, approval)

    async def get(self, approval_id: str) -> Approval | None:
        """Return the entry as it stands now (expired once past its time), or None."""
        entry = self._entries.get(approval_id)
        if entry is None:
            return None
        now = time.time()
        if now >= entry.expires_at + self._keep:
            self._entries.pop(approval_id)
            return None
        return replace(entry, state=entry.now_state(now))

    async def decide(
        self,
        approval_id: str,
        owner: str | None,
        approved: bool,
        reason: str | None = None,
        *,
        conversation_id: str | None = None,
    ) -> Approval:
        """Decide a pending request of `owner`'s; refuse as `check_decidable` says."""
        entry = check_decidable(await self.get(approval_id), owner, conversation_id, time.time())
        decided = replace(entry, state="decided", approved=approved, reason=reason)
        self._entries.put(approval_id, decided)
        self._waiters.wake(approval_id)
        return decided

    async def expire(self, approval_id: str) -> Approval | None:
        """Close a pending request as expired; return the entry as it ends (a decision wins)."""
        entry = await self.get(approval_id)
        if entry is None or entry.state == "decided":
            return entry
        expired = replace(entry, state="expired")
        self._entries.put(approval_id, expired)
        self._waiters.wake(approval_id)
        return expired

    async def wait(self, approval_ids: Iterable[str], seconds: float) -> None:
        """Return when one of these entries changed here, or after `seconds`."""
        await self._waiters.wait(approval_ids, seconds)

    async def reopen(self, approval_ids: Iterable[str]) -> None:
        """Make decided entries pending again: the turn they were for could not go on."""
        for approval_id in approval_ids:
            entry = self._entries.get(approval_id)
            if entry is not None and entry.state == "decided":
                reopened = replace(entry, state="pending", approved=False, reason=None)
                self._entries.put(approval_id, reopened)

    async def drop(self, approval_ids: Iterable[str]) -> None:
        """Forget these entries (their turn was cancelled): a later decision is a 404."""
        for approval_id in approval_ids:
            self._entries.pop(approval_id)
            self._waiters.wake(approval_id)

    async def close(self) -> None:
        """Nothing to release."""
