"""A turn that pauses for tool approvals: its requests go on the desk, then it goes on or ends.

By the format's `approvals` channel: "route" waits for each decision (`POST
/v1/tool-approvals`) or its expiry, "none" denies at once, "request" ends the stream awaiting
input; then ("route", "none") the continuation turn's events follow in the same stream, as
the same agent turn: no second `turn_start`, and its `turn_complete` carries the whole answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from enum import Enum

import structlog

from formatters.base import ApprovalChannel
from formatters.events import (
    ApprovalDecisionKind,
    ApprovalRequestEvent,
    ApprovalResultEvent,
    ErrorEvent,
    Event,
    TextDeltaEvent,
    TurnAwaitingInputEvent,
    TurnCompleteEvent,
    TurnStartEvent,
)
from service.approvals.desk import Approval, ApprovalDesk, ApprovalsUnavailable
from service.errors import Rejected
from service.streams.pause import PauseClock
from service.streams.pipeline import close_events
from service.upstream import Turn, UpstreamUnavailable
from service.upstream.batches import CancelSafeBatches, EventBatches, batch_reader
from service.upstream.turn import ApprovalDecision, AskedApproval, TurnRequest

log = structlog.get_logger(__name__)

StartTurn = Callable[[TurnRequest], Awaitable[Turn]]
"""Start a turn for the same caller (the upstream's `start_turn`, owner bound)."""

DESK_FAILED = "The service could not keep this turn's approval requests; please ask again."
INTERNAL = "The service failed while waiting for the approval of a tool call."


def unanswerable(name: str) -> str:
    """Return the reason a tool is denied for a client whose format cannot answer approvals."""
    return f"This client cannot approve tool calls, so {name} was not run."


def expired(name: str, seconds: float) -> str:
    """Return the reason a tool is denied when nobody decided its approval request in time."""
    return f"No decision came within {seconds:g} s, so {name} was not run."


class _Signal(Enum):
    RESUME = "resume"
    """Take the turn's events again (the continuation's, or the rest of the paused turn's)."""
    END = "end"
    """The stream's events are over."""


@dataclass(frozen=True, slots=True)
class ApprovalContext:
    """What a turn's pause needs: its channel, the desk, the caller and how to go on."""

    channel: ApprovalChannel
    desk: ApprovalDesk
    owner: str | None
    timeout: float
    start: StartTurn


class ApprovalReads:
    """A turn's reads (`BatchReads`), paused at its approval requests as the channel says.

    They are cancel-safe when the turn's own are: a pause runs in a task of its own, whose
    batches a cancelled read leaves in the queue.
    """

    def __init__(self, turn: Turn, query: TurnRequest, context: ApprovalContext) -> None:
        self._events = turn.events
        self._read = batch_reader(turn.events)
        self._conversation_id = turn.conversation_id
        self._query = query
        self._context = context
        self.pause = PauseClock()
        self._loop = asyncio.get_running_loop()
        self._asked: list[ApprovalRequestEvent] = []
        self._held: list[Event] = []
        """The turn's events from its first approval request on, until the requests are on the
        desk: a client that decides as soon as it reads a request must find it there."""
        self._said: list[str] = []
        self._before = ""
        """The answer text of the turns before the running continuation."""
        self._continued = False
        self._queue: asyncio.Queue[list[Event] | _Signal] | None = None
        self._task: asyncio.Task[None] | None = None
        self._waiting: list[str] = []
        """Approval ids a pause waits on: dropped from the desk if the stream ends first."""
        self._told = told(query)
        """The decisions the request carries: the stream shows them first."""

    async def next_batch(self) -> list[Event]:
        """Return the next batch: the turn's events, a pause's results, the continuation's."""
        if self._told:
            batch, self._told = self._told, []
            return batch
        while True:
            if self._queue is not None:
                item = await self._queue.get()
                if item is _Signal.RESUME:
                    self._queue = None
                    continue
                if item is _Signal.END:
                    raise StopAsyncIteration
                assert not isinstance(item, _Signal)
                return item
            try:
                batch = self._scan(await self._read())
            except StopAsyncIteration:
                if not self._held:
                    raise
                batch, self._held = self._held, []  # the turn ended without awaiting them
            if batch:
                return batch

    def _scan(self, batch: list[Event]) -> list[Event]:
        """Note the batch's answer text and approval requests; pause at a turn awaiting them."""
        said = self._said
        for event in batch:
            if type(event) is TextDeltaEvent:
                said.append(event.text)
            elif type(event) is ApprovalRequestEvent:  # `type(...) is`: isinstance goes by ABCMeta
                self._asked.append(event)
        if self._continued:
            batch = [self._as_one_turn(e) for e in batch if type(e) is not TurnStartEvent]
        if self._asked:
            held = self._held
            first = (
                0
                if held
                else next(i for i, e in enumerate(batch) if type(e) is ApprovalRequestEvent)
            )
            held.extend(batch[first:])
            batch = batch[:first]
            if held and isinstance(held[-1], TurnAwaitingInputEvent):
                asked, self._asked, self._held = self._asked, [], []
                self._queue = asyncio.Queue()
                self._task = asyncio.create_task(
                    self._pause(asked, held[-1], held[:-1], self._queue)
                )
        return batch

    def _as_one_turn(self, event: Event) -> Event:
        """Return a continuation's event as part of the whole turn (its complete answer)."""
        if isinstance(event, TurnCompleteEvent) and self._before:
            return event.model_copy(update={"text": self._before + event.text})
        return event

    async def _pause(
        self,
        asked: list[ApprovalRequestEvent],
        awaiting: Event,
        held: list[Event],
        queue: asyncio.Queue[list[Event] | _Signal],
    ) -> None:
        """Record the requests, hand on the events held, then end, deny or wait, and go on."""
        try:
            await self._decide_and_go_on(asked, awaiting, held, queue)
        except ApprovalsUnavailable:
            failed = ErrorEvent(message=DESK_FAILED, source="gateway", code="approvals_unavailable")
            queue.put_nowait([*held, failed])  # held: the desk failed to record them
            queue.put_nowait(_Signal.END)
        except Exception:
            log.exception("approval pause failed")
            queue.put_nowait(
                [*held, ErrorEvent(message=INTERNAL, source="gateway", code="internal")]
            )
            queue.put_nowait(_Signal.END)

    async def _decide_and_go_on(
        self,
        asked: list[ApprovalRequestEvent],
        awaiting: Event,
        held: list[Event],
        queue: asyncio.Queue[list[Event] | _Signal],
    ) -> None:
        context = self._context
        expires_at = time.time() + context.timeout
        approvals = [self._approval(event, expires_at) for event in asked]
        await context.desk.record(approvals)
        log.info("approvals asked", approval_ids=[a.approval_id for a in approvals])
        if held:
            queue.put_nowait(list(held))
            held.clear()
        if context.channel == "request":
            queue.put_nowait([awaiting])
            queue.put_nowait(_Signal.RESUME)
            return
        self._waiting = [approval.approval_id for approval in approvals]
        if context.channel == "none":
            decisions = await self._deny_all(approvals, queue)
        else:
            self.pause.start(self._loop.time())
            try:
                decisions = await self._wait_all(approvals, queue)
            finally:
                self.pause.stop(self._loop.time())
        self._waiting = []
        await self._go_on(decisions, queue)

    def _approval(self, event: ApprovalRequestEvent, expires_at: float) -> Approval:
        arguments = event.arguments
        return Approval(
            asked=AskedApproval(
                approval_id=event.approval_id,
                name=event.name,
                arguments=arguments if isinstance(arguments, str) else json.dumps(arguments),
                server_label=event.server_label or "",
            ),
            call_id=event.call_id,
            owner=self._context.owner,
            conversation_id=self._conversation_id,
            expires_at=expires_at,
        )

    async def _deny_all(
        self, approvals: Sequence[Approval], queue: asyncio.Queue[list[Event] | _Signal]
    ) -> list[ApprovalDecision]:
        """Deny each request at once: this client cannot answer them."""
        decisions = []
        for approval in approvals:
            reason = unanswerable(approval.asked.name)
            await self._context.desk.decide(approval.approval_id, approval.owner, False, reason)
            queue.put_nowait([_result(approval, "unanswerable", reason)])
            decisions.append(_decision(approval, False, reason))
        return decisions

    async def _wait_all(
        self, approvals: Sequence[Approval], queue: asyncio.Queue[list[Event] | _Signal]
    ) -> list[ApprovalDecision]:
        """Wait for each request's decision or expiry, handing on each result as it comes."""
        desk, timeout = self._context.desk, self._context.timeout
        waiting = {approval.approval_id: approval for approval in approvals}
        decided: dict[str, ApprovalDecision] = {}
        while waiting:
            for approval_id, approval in list(waiting.items()):
                entry = await desk.get(approval_id)
                if entry is not None and entry.state == "pending":
                    continue
                if entry is not None and entry.state == "expired":
                    entry = await desk.expire(approval_id)  # a decision that raced it wins
                del waiting[approval_id]
                if entry is not None and entry.state == "decided":
                    kind: ApprovalDecisionKind = "approved" if entry.approved else "denied"
                    queue.put_nowait([_result(approval, kind, entry.reason)])
                    decided[approval_id] = _decision(approval, entry.approved, entry.reason)
                else:
                    reason = expired(approval.asked.name, timeout)
                    queue.put_nowait([_result(approval, "expired", reason)])
                    decided[approval_id] = _decision(approval, False, reason)
            if waiting:
                soonest = min(approval.expires_at for approval in waiting.values())
                await desk.wait(waiting, max(soonest - time.time(), 0.0))
        return [decided[approval.approval_id] for approval in approvals]

    async def _go_on(
        self, decisions: list[ApprovalDecision], queue: asyncio.Queue[list[Event] | _Signal]
    ) -> None:
        """Start the continuation turn with the decisions; its events follow in this stream."""
        query = replace(
            self._query,
            query="",
            conversation_id=self._conversation_id,
            attachments=(),
            function_outputs=(),
            approval_decisions=tuple(decisions),
        )
        try:
            turn = await self._context.start(query)
        except (UpstreamUnavailable, Rejected) as exc:
            reason = exc.reason if isinstance(exc, UpstreamUnavailable) else exc.cause
            log.warning("the turn could not go on after its approvals", reason=reason)
            queue.put_nowait([ErrorEvent(message=reason, code="upstream_unavailable")])
            queue.put_nowait(_Signal.END)
            return
        done, self._events = self._events, turn.events
        self._read = batch_reader(turn.events)
        self._before += "".join(self._said)
        self._said = []
        self._continued = True
        await close_events(done)
        queue.put_nowait(_Signal.RESUME)

    async def aclose(self) -> None:
        """Stop a pause (its waiting requests leave the desk) and close the turn's events."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
        if self._waiting:
            waiting, self._waiting = self._waiting, []
            log.info("approvals dropped with their turn", approval_ids=waiting)
            with contextlib.suppress(Rejected):
                await self._context.desk.drop(waiting)
        await close_events(self._events)


def _result(
    approval: Approval, decision: ApprovalDecisionKind, reason: str | None
) -> ApprovalResultEvent:
    return ApprovalResultEvent(
        approval_id=approval.approval_id,
        call_id=approval.call_id,
        name=approval.asked.name,
        decision=decision,
        reason=reason,
    )


def told(query: TurnRequest) -> list[Event]:
    """Return the decisions a request that continues a turn carries, as their results.

    The request answers approval requests of MCP calls, whose call id is the approval id.
    """
    return [
        ApprovalResultEvent(
            approval_id=decision.approval_id,
            call_id=decision.approval_id,
            name=decision.asked.name if decision.asked is not None else "",
            decision="approved" if decision.approved else "denied",
            reason=decision.reason,
        )
        for decision in query.approval_decisions
    ]


def _decision(approval: Approval, approved: bool, reason: str | None) -> ApprovalDecision:
    return ApprovalDecision(
        approval_id=approval.approval_id, approved=approved, reason=reason, asked=approval.asked
    )


class ApprovalBatches(CancelSafeBatches):
    """A turn's events through its `ApprovalReads`; `pause` counts its waits for a person."""

    def __init__(self, reads: ApprovalReads) -> None:
        super().__init__(reads)
        self.pause = reads.pause


class _WaitingApprovalBatches(ApprovalBatches):
    """`ApprovalBatches` over reads whose waits must not be cancelled (a generator's)."""

    cancel_safe = False


def with_approvals(turn: Turn, query: TurnRequest, context: ApprovalContext) -> Turn:
    """Return the turn with its events paused at approval requests as `context` says."""
    reads = ApprovalReads(turn, query, context)
    safe = isinstance(turn.events, EventBatches) and turn.events.cancel_safe
    events = ApprovalBatches(reads) if safe else _WaitingApprovalBatches(reads)
    return Turn(conversation_id=turn.conversation_id, events=events)
