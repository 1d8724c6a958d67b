"""The approval desk, in process and in Redis: record, decide once, expire, drop, wake."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import pytest

from service.approvals.desk import (
    Approval,
    ApprovalClosed,
    ApprovalDesk,
    ApprovalNotFound,
    MemoryDesk,
)
from service.approvals.redis_desk import RedisDesk
from service.upstream.turn import AskedApproval


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def desk(request: pytest.FixtureRequest) -> AsyncIterator[ApprovalDesk]:
    made: ApprovalDesk
    if request.param == "memory":
        made = MemoryDesk(keep=60)
    else:
        made = RedisDesk.from_url(request.getfixturevalue("redis_url"), keep=60)
    yield made
    await made.close()


def pending(owner: str | None = "alice", seconds: float = 60) -> Approval:
    """A fresh pending request (a new id: the Redis server is shared by the session)."""
    approval_id = f"apr_{secrets.token_hex(8)}"
    return Approval(
        asked=AskedApproval(approval_id, "delete_pod", '{"pod": "a"}', "k8s"),
        call_id=approval_id,
        owner=owner,
        conversation_id="conv_1",
        expires_at=time.time() + seconds,
    )


async def test_a_recorded_request_is_pending_until_its_owner_decides_it(desk):
    approval = pending()
    await desk.record([approval])
    assert await desk.get(approval.approval_id) == approval
    decided = await desk.decide(approval.approval_id, "alice", False, "Not that one.")
    assert decided == Approval(
        asked=approval.asked,
        call_id=approval.call_id,
        owner="alice",
        conversation_id="conv_1",
        expires_at=approval.expires_at,
        state="decided",
        approved=False,
        reason="Not that one.",
    )
    assert await desk.get(approval.approval_id) == decided


@pytest.mark.parametrize(
    ("owner", "conversation_id"), [("bob", None), (None, None), ("alice", "conv_2")]
)
async def test_another_owners_or_conversations_request_is_not_found(desk, owner, conversation_id):
    approval = pending()
    await desk.record([approval])
    with pytest.raises(ApprovalNotFound):
        await desk.decide(approval.approval_id, owner, True, conversation_id=conversation_id)
    assert (await desk.get(approval.approval_id)) == approval


async def test_an_unknown_request_is_not_found(desk):
    with pytest.raises(ApprovalNotFound):
        await desk.decide("apr_unknown", "alice", True)
    assert await desk.get("apr_unknown") is None


async def test_a_request_is_decided_once(desk):
    approval = pending(owner=None)
    await desk.record([approval])
    await desk.decide(approval.approval_id, None, True)
    with pytest.raises(ApprovalClosed) as closed:
        await desk.decide(approval.approval_id, None, False)
    assert closed.value.status == 409
    assert closed.value.cause == "This approval request was decided already."
    assert (await desk.get(approval.approval_id)).approved is True


async def test_a_request_past_its_time_is_expired_and_refuses_a_decision(desk):
    approval = pending(seconds=-1)
    await desk.record([approval])
    assert (await desk.get(approval.approval_id)).state == "expired"
    with pytest.raises(ApprovalClosed) as closed:
        await desk.decide(approval.approval_id, "alice", True)
    assert closed.value.cause == (
        "This approval request expired before a decision came; the tool was not run."
    )
    assert (await desk.expire(approval.approval_id)).state == "expired"


async def test_expiring_a_decided_request_leaves_the_decision(desk):
    approval = pending()
    await desk.record([approval])
    await desk.decide(approval.approval_id, "alice", True)
    assert (await desk.expire(approval.approval_id)).state == "decided"


async def test_a_dropped_request_is_not_found(desk):
    approval = pending()
    await desk.record([approval])
    await desk.drop([approval.approval_id])
    assert await desk.get(approval.approval_id) is None
    with pytest.raises(ApprovalNotFound):
        await desk.decide(approval.approval_id, "alice", True)


async def test_a_decision_wakes_the_wait_on_it(desk):
    approval = pending()
    await desk.record([approval])
    loop = asyncio.get_running_loop()
    started = loop.time()
    waiting = asyncio.create_task(desk.wait([approval.approval_id], 30))
    await asyncio.sleep(0.05)
    await desk.decide(approval.approval_id, "alice", True)
    await asyncio.wait_for(waiting, 10)
    assert loop.time() - started < 10


async def test_a_reopened_request_is_pending_again(desk):
    approval = pending()
    await desk.record([approval])
    await desk.decide(approval.approval_id, "alice", True, "Yes.")
    await desk.reopen([approval.approval_id])
    assert await desk.get(approval.approval_id) == approval
    assert (await desk.decide(approval.approval_id, "alice", False)).approved is False
