"""Decisions a turn request carries, checked against the desk and filled in with what was asked."""

from __future__ import annotations

import time
from dataclasses import replace

from service.approvals.desk import ApprovalDesk, ApprovalNotFound, check_decidable
from service.upstream.turn import TurnRequest


async def resolve_decisions(
    desk: ApprovalDesk | None, query: TurnRequest, owner: str | None
) -> TurnRequest:
    """Return the query with each decision's `asked` filled in, each request now decided.

    Each must be a pending request of `owner`'s in the query's conversation (all in one; a
    query naming none goes on in theirs): ApprovalNotFound (404) if it is unknown or
    another's, ApprovalClosed (409) if decided already or expired. All are checked before
    any is decided.
    """
    if not query.approval_decisions:
        return query
    if desk is None:
        raise ApprovalNotFound()
    conversation_id = query.conversation_id
    now = time.time()
    for decision in query.approval_decisions:
        entry = check_decidable(await desk.get(decision.approval_id), owner, conversation_id, now)
        conversation_id = entry.conversation_id
    decisions = []
    for decision in query.approval_decisions:
        entry = await desk.decide(
            decision.approval_id,
            owner,
            decision.approved,
            decision.reason,
            conversation_id=conversation_id,
        )
        decisions.append(replace(decision, asked=entry.asked))
    return replace(query, conversation_id=conversation_id, approval_decisions=tuple(decisions))
