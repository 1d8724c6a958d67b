"""The approval desk in Redis: a decision taken on any replica reaches the stream waiting for it."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import replace
from typing import Any, cast

import redis.asyncio as redis
import structlog
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from service.approvals.desk import (
    Approval,
    ApprovalClosed,
    ApprovalNotFound,
    ApprovalsUnavailable,
    Waiters,
)
from service.upstream.turn import AskedApproval

log = structlog.get_logger(__name__)

KEY_PREFIX = "ags:approval:"
REDIS_CONNECTIONS = 32
"""Connections of the desk's own Redis pool."""
POLL_EVERY = 0.25
"""Seconds between two looks at the entries a stream waits on (a decision on another replica)."""

# KEYS[1] the entry; ARGV: owner ("" with auth off), conversation ("" = any), now, approved
# ("1"/"0"), reason. Returns "missing", "decided", "expired" (refused) or "ok".
_DECIDE = """
local f = redis.call('HMGET', KEYS[1], 'owner', 'conversation_id', 'state', 'expires_at')
if not f[3] or f[1] ~= ARGV[1] or (ARGV[2] ~= '' and f[2] ~= ARGV[2]) then return 'missing' end
if f[3] ~= 'pending' then return f[3] end
if tonumber(f[4]) <= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'state', 'expired')
  return 'expired'
end
redis.call('HSET', KEYS[1], 'state', 'decided', 'approved', ARGV[4], 'reason', ARGV[5])
return 'ok'
"""
# KEYS[1] the entry. Closes a pending entry as expired; returns the state it ends in, or "".
_EXPIRE = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return '' end
if state == 'pending' then
  redis.call('HSET', KEYS[1], 'state', 'expired')
  return 'expired'
end
return state
"""

# KEYS[1] the entry. Makes a decided entry pending again.
_REOPEN = """
if redis.call('HGET', KEYS[1], 'state') == 'decided' then
  redis.call('HSET', KEYS[1], 'state', 'pending', 'approved', '0', 'reason', '')
end
return 0
"""


class RedisDesk:
    """Approval requests in Redis (`ags:approval:<id>`, a hash), kept `keep` s after expiry.

    A decision wakes a stream waiting here at once, one on another replica within POLL_EVERY.
    """

    def __init__(self, client: redis.Redis, keep: float) -> None:
        self._redis = client
        self._keep = keep
        self._decide = client.register_script(_DECIDE)
        self._expire = client.register_script(_EXPIRE)
        self._reopen = client.register_script(_REOPEN)
        self._waiters = Waiters()

    @classmethod
    def from_url(cls, url: str, keep: float) -> RedisDesk:
        """Connect lazily to the Redis at `url`, with a pool of its own."""
        client = redis.Redis.from_url(url, decode_responses=True, max_connections=REDIS_CONNECTIONS)
        return cls(client, keep)

    async def record(self, approvals: Sequence[Approval]) -> None:
        """Put pending approval requests on the desk, each kept `keep` s past its expiry."""
        pipe = self._redis.pipeline(transaction=True)
        now = time.time()
        for approval in approvals:
            key = KEY_PREFIX + approval.approval_id
            pipe.hset(key, mapping=_fields(approval))
            pipe.expire(key, math.ceil(approval.expires_at - now + self._keep))
        await _run(pipe.execute())

    async def get(self, approval_id: str) -> Approval | None:
        """Return the entry as it stands now (expired once past its time), or None."""
        fields = await _run(self._redis.hgetall(KEY_PREFIX + approval_id))
        if not fields:
            return None
        entry = _entry(cast(dict[str, str], fields))
        return replace(entry, state=entry.now_state(time.time()))

    async def decide(
        self,
        approval_id: str,
        owner: str | None,
        approved: bool,
        reason: str | None = None,
        *,
        conversation_id: str | None = None,
    ) -> Approval:
        """Decide a pending request of `owner`'s, in one script; refuse as the memory desk does."""
        key = KEY_PREFIX + approval_id
        args = [owner or "", conversation_id or "", repr(time.time()), str(int(approved))]
        args.append(reason or "")
        outcome = await _run(self._decide(keys=[key], args=args))
        if outcome == "missing":
            raise ApprovalNotFound()
        if outcome != "ok":
            raise ApprovalClosed("decided" if outcome == "decided" else "expired")
        self._waiters.wake(approval_id)
        entry = await self.get(approval_id)
        if entry is None:  # gone in between (its turn was dropped): as if never there
            raise ApprovalNotFound()
        return entry

    async def expire(self, approval_id: str) -> Approval | None:
        """Close a pending request as expired; return the entry as it ends (a decision wins)."""
        await _run(self._expire(keys=[KEY_PREFIX + approval_id]))
        self._waiters.wake(approval_id)
        return await self.get(approval_id)

    async def wait(self, approval_ids: Iterable[str], seconds: float) -> None:
        """Return when one of these entries changed here, or within POLL_EVERY (or `seconds`)."""
        await self._waiters.wait(approval_ids, min(seconds, POLL_EVERY))

    async def reopen(self, approval_ids: Iterable[str]) -> None:
        """Make decided entries pending again: the turn they were for could not go on."""
        for approval_id in approval_ids:
            await _run(self._reopen(keys=[KEY_PREFIX + approval_id]))

    async def drop(self, approval_ids: Iterable[str]) -> None:
        """Forget these entries (their turn was cancelled): a later decision is a 404."""
        keys = [KEY_PREFIX + approval_id for approval_id in approval_ids]
        if keys:
            await _run(self._redis.delete(*keys))

    async def close(self) -> None:
        """Close the connections."""
        await self._redis.aclose()


def _fields(approval: Approval) -> dict[FieldT, EncodableT]:
    asked = approval.asked
    return {
        "approval_id": asked.approval_id,
        "name": asked.name,
        "arguments": asked.arguments,
        "server_label": asked.server_label,
        "call_id": approval.call_id,
        "owner": approval.owner or "",
        "conversation_id": approval.conversation_id,
        "expires_at": repr(approval.expires_at),
        "state": approval.state,
        "approved": "1" if approval.approved else "0",
        "reason": approval.reason or "",
    }


def _entry(fields: dict[str, str]) -> Approval:
    state = fields["state"]
    return Approval(
        asked=AskedApproval(
            approval_id=fields["approval_id"],
            name=fields["name"],
            arguments=fields["arguments"],
            server_label=fields["server_label"],
        ),
        call_id=fields["call_id"],
        owner=fields["owner"] or None,
        conversation_id=fields["conversation_id"],
        expires_at=float(fields["expires_at"]),
        state="decided" if state == "decided" else "expired" if state == "expired" else "pending",
        approved=fields["approved"] == "1",
        reason=fields["reason"] or None,
    )


async def _run(call: Awaitable[Any] | Any) -> Any:
    """Await one Redis call; a failure is logged (with its address) and answered 503."""
    try:
        return await cast(Awaitable[Any], call)
    except (RedisError, OSError) as exc:
        log.warning("approval desk failed", error=repr(exc))
        raise ApprovalsUnavailable() from exc
