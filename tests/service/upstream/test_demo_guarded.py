"""The demo agent's guarded tool (an approval asked, then the call run or not) and its reasoning."""

from __future__ import annotations

import json
import re

from formatters.events import (
    ApprovalRequestEvent,
    Event,
    ReasoningDeltaEvent,
    StepEndEvent,
    StepStartEvent,
    TextContent,
    TextDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnAwaitingInputEvent,
    TurnCompleteEvent,
    TurnStartEvent,
)
from service.upstream.demo import ANSWER, DemoUpstream
from service.upstream.turn import ApprovalDecision, AskedApproval, ClientFunction, TurnRequest

GUARDED_QUESTION = "Please restart_service the gateway."
ARGUMENTS = {"service": "agent-stream-gateway"}
RESULT = '{"service": "agent-stream-gateway", "restarted": true, "replicas_ready": 3}'
REASONING = (
    "The question asks what the gateway does. The search found two documents about it and the "
    "status tool says 3 replicas are ready, so I can answer from them."
)


async def run(demo: DemoUpstream, request: TurnRequest) -> tuple[str, list[Event]]:
    """Run one demo turn to its end: its conversation id and its events."""
    turn = await demo.start_turn(request)
    return turn.conversation_id, [event async for event in turn.events]


def asked(approval_id: str) -> AskedApproval:
    """The approval desk's copy of the demo's request, as the service fills it in."""
    return AskedApproval(approval_id, "restart_service", json.dumps(ARGUMENTS), "demo")


def guarded_call(chunk: int, step: str, approval_id: str) -> ToolCallEvent:
    """The demo's call of its guarded tool, whose id is the approval id."""
    return ToolCallEvent(
        chunk=chunk, step=step, call_id=approval_id, name="restart_service", arguments=ARGUMENTS
    )


async def paused(demo: DemoUpstream) -> tuple[str, str]:
    """Ask the guarded question: the conversation and the id of the approval it waits for."""
    conversation, events = await run(demo, TurnRequest(query=GUARDED_QUESTION))
    (request,) = [event for event in events if isinstance(event, ApprovalRequestEvent)]
    return conversation, request.approval_id


def words(text: str) -> list[str]:
    """`text` split as the demo streams it: each word with its following space."""
    parts = text.split(" ")
    return [part + " " for part in parts[:-1]] + parts[-1:]


def answer_events(first: int, answer: str) -> list[Event]:
    """The events of the demo's answering step, its chunks numbered from `first`."""
    texts = words(answer)
    return [
        StepStartEvent(chunk=first, step="inference"),
        *(
            TextDeltaEvent(chunk=first + 1 + n, step="inference", text=text)
            for n, text in enumerate(texts)
        ),
        StepEndEvent(chunk=first + 1 + len(texts), step="inference"),
        TurnCompleteEvent(chunk=first + 2 + len(texts), text=answer),
    ]


async def test_a_question_naming_the_guarded_tool_calls_it_and_waits_for_an_approval():
    _, events = await run(DemoUpstream(0), TurnRequest(query=GUARDED_QUESTION))
    approval_id = events[2].call_id if isinstance(events[2], ToolCallEvent) else ""
    assert re.fullmatch(r"approval_[0-9a-f]{32}", approval_id)
    assert events == [
        TurnStartEvent(chunk=0),
        StepStartEvent(chunk=1, step="inference"),
        guarded_call(2, "inference", approval_id),
        ApprovalRequestEvent(
            chunk=3,
            step="inference",
            approval_id=approval_id,
            call_id=approval_id,
            name="restart_service",
            arguments=ARGUMENTS,
            server_label="demo",
            description="Restarts the gateway's replicas one at a time.",
        ),
        StepEndEvent(chunk=4, step="inference"),
        TurnAwaitingInputEvent(chunk=5),
    ]


async def test_each_guarded_turn_asks_with_its_own_approval_id():
    demo = DemoUpstream(0)
    ids = {(await paused(demo))[1] for _ in range(3)}
    assert len(ids) == 3


async def test_an_approved_call_runs_the_tool_and_the_answer_says_so():
    demo = DemoUpstream(0)
    conversation, approval_id = await paused(demo)
    decision = ApprovalDecision(approval_id, approved=True, asked=asked(approval_id))
    continued = TurnRequest(query="", conversation_id=conversation, approval_decisions=(decision,))
    same, events = await run(demo, continued)
    answer = "I ran restart_service: agent-stream-gateway restarted, 3 replicas ready."
    assert same == conversation
    assert events == [
        StepStartEvent(chunk=0, step="tool_execution"),
        guarded_call(1, "tool_execution", approval_id),
        ToolResultEvent(
            chunk=1,
            step="tool_execution",
            call_id=approval_id,
            name="restart_service",
            content=[TextContent(text=RESULT)],
        ),
        StepEndEvent(chunk=1, step="tool_execution"),
        *answer_events(2, answer),
    ]
    (turn,) = await demo.history(conversation, None)
    assert turn.messages == (("user", ""), ("assistant", answer))


async def test_a_denied_call_is_not_run_and_the_answer_says_so_with_the_reason():
    demo = DemoUpstream(0)
    conversation, approval_id = await paused(demo)
    plain = ApprovalDecision(approval_id, approved=False, asked=asked(approval_id))
    why = ApprovalDecision(approval_id, False, "not during office hours", asked(approval_id))
    for decision, answer in [
        (plain, "I did not run restart_service: it was not approved."),
        (
            why,
            "I did not run restart_service: it was not approved. Reason: not during office hours",
        ),
    ]:
        continued = TurnRequest("", conversation_id=conversation, approval_decisions=(decision,))
        _, events = await run(demo, continued)
        assert events == answer_events(0, answer)


async def test_client_functions_come_before_the_guarded_tool():
    weather = ClientFunction("get_weather", parameters={"type": "object"})
    request = TurnRequest(query=GUARDED_QUESTION, functions=(weather,))
    _, events = await run(DemoUpstream(0), request)
    calls = [(e.name, e.step) for e in events if isinstance(e, ToolCallEvent)]
    assert calls[-1] == ("get_weather", "inference")
    assert not [event for event in events if isinstance(event, ApprovalRequestEvent)]


async def test_a_question_asking_to_think_streams_a_reasoning_before_the_answer():
    _, events = await run(DemoUpstream(0), TurnRequest(query="Think: what does this gateway do?"))
    kinds = [type(event) for event in events]
    first_text = kinds.index(TextDeltaEvent)
    reasoning = [event for event in events if isinstance(event, ReasoningDeltaEvent)]
    assert [event.text for event in reasoning] == words(REASONING)
    assert {event.step for event in reasoning} == {"inference"}
    assert kinds[first_text - len(reasoning) : first_text] == [ReasoningDeltaEvent] * len(reasoning)
    assert isinstance(events[first_text - len(reasoning) - 1], StepStartEvent)
    chunks = [event.chunk or 0 for event in events]
    assert chunks == sorted(chunks) and chunks[-1] == len(set(chunks)) - 1
    assert "".join(e.text for e in events if isinstance(e, TextDeltaEvent)) == ANSWER


async def test_the_usual_question_streams_no_reasoning():
    for question in ("What does this gateway do?", "What do you rethink?"):
        _, events = await run(DemoUpstream(0), TurnRequest(query=question))
        assert not [event for event in events if isinstance(event, ReasoningDeltaEvent)]
        assert "".join(e.text for e in events if isinstance(e, TextDeltaEvent)) == ANSWER
