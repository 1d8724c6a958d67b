"""The demo agent: a scripted Agents-API turn streamed through the real normalizer.

Offered functions of the client's own, it runs its own tools, then calls one of the client's
and pauses; given that call's output, it answers with it. A question that names its guarded tool
(`restart_service`) gets a call of it that waits for a person's approval; a question with the
word "think" gets a short reasoning before the answer.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from formatters.events import ApprovalRequestEvent, Event, ReasoningDeltaEvent
from service.conversations.directory import Binding, ConversationDirectory
from service.conversations.lru import Lru
from service.conversations.owners import ConversationNotFound
from service.upstream import HistoryTurn, ModelInfo, Readiness, Speaker, Turn
from service.upstream.agents_normalizer import normalize_chunk
from service.upstream.history import iso_utc
from service.upstream.turn import ApprovalDecision, ClientFunction, TurnRequest

DOCUMENTS = (
    ("https://docs.example.com/agent-stream-gateway/overview", "What agent-stream-gateway does"),
    ("https://docs.example.com/agent-stream-gateway/formats", "Stream formats"),
)
SEARCH_PAUSE = 120
"""The knowledge search takes 120 delay units (6 s by default): long enough for a heartbeat."""
ANSWER = (
    "agent-stream-gateway sits between your chat frontend and a llama-stack agent. "
    "It turns the agent's stream into the SSE dialect your frontend speaks, and sends "
    "heartbeats while the agent is busy, so no proxy mistakes a thinking agent for a dead one."
)
MODEL = ModelInfo(
    id="demo/demo-agent",
    model_type="llm",
    provider_id="demo",
    provider_resource_id="demo-agent",
    owned_by="agent-stream-gateway",
)
"""The one model the demo agent lists."""
GUARDED_TOOL = "restart_service"
"""The demo's one tool that runs only once a person approves it (when a question names it)."""
GUARDED_ARGUMENTS = {"service": "agent-stream-gateway"}
GUARDED_DESCRIPTION = "Restarts the gateway's replicas one at a time."
GUARDED_RESULT = '{"service": "agent-stream-gateway", "restarted": true, "replicas_ready": 3}'
REASONING = (
    "The question asks what the gateway does. The search found two documents about it and the "
    "status tool says 3 replicas are ready, so I can answer from them."
)
"""What the demo agent thinks before its usual answer, when the question asks it to think."""
HISTORIES = 10_000
"""Conversations whose turns the demo agent remembers (the least recently used go first)."""


class DemoUpstream:
    """A scripted agent for trying the service without a llama-stack server."""

    name = "demo"
    client_functions = True

    def __init__(self, delay: float = 0.05, directory: ConversationDirectory | None = None) -> None:
        self._delay = delay
        self._directory = directory if directory is not None else ConversationDirectory()
        self._histories: Lru[str, list[HistoryTurn]] = Lru(HISTORIES)

    async def start_turn(self, query: TurnRequest, *, owner: str | None = None) -> Turn:
        """Start the scripted turn, echoing the question into its knowledge search."""
        conversation_id = query.conversation_id
        if owner is None:
            conversation_id = conversation_id or str(uuid.uuid4())
        elif conversation_id is None:
            conversation_id = str(uuid.uuid4())
            await self._directory.add(conversation_id, Binding(owner))
        elif await self._directory.find(conversation_id, owner) is None:
            raise ConversationNotFound()
        if self._histories.get(conversation_id) is None:
            self._histories.put(conversation_id, [])
        return Turn(conversation_id, events=self._events(conversation_id, _script(query)))

    async def readiness(self) -> Readiness:
        """Report ready: the demo agent needs nothing."""
        return Readiness(True)

    async def models(self) -> list[ModelInfo]:
        """List the demo agent's one model."""
        return [MODEL]

    async def history(self, conversation_id: str, owner: str | None) -> list[HistoryTurn]:
        """Return the turns the demo agent ran in the conversation (finished ones)."""
        return list(await self._turns(conversation_id, owner))

    async def delete(self, conversation_id: str, owner: str | None) -> None:
        """Forget the conversation, its turns and its binding."""
        await self._turns(conversation_id, owner)
        self._histories.pop(conversation_id)
        await self._directory.forget(conversation_id, owner)

    async def _turns(self, conversation_id: str, owner: str | None) -> list[HistoryTurn]:
        turns = self._histories.get(conversation_id)
        if turns is None:
            raise ConversationNotFound()
        if owner is not None and await self._directory.find(conversation_id, owner) is None:
            raise ConversationNotFound()
        return turns

    async def _events(self, conversation_id: str, script: Script) -> AsyncIterator[Event]:
        started = iso_utc()
        for index, (pause, chunk) in enumerate(script.chunks):
            if pause and self._delay:
                await asyncio.sleep(pause * self._delay)
            if isinstance(chunk, dict):
                for event in normalize_chunk(index, chunk):
                    yield event
            else:
                yield chunk.model_copy(update={"chunk": index})
        turns = self._histories.get(conversation_id)
        if turns is not None and script.answer is not None:
            messages: tuple[tuple[Speaker, str], ...] = (
                ("user", script.question),
                ("assistant", script.answer),
            )
            model, provider = MODEL.provider_resource_id, MODEL.provider_id
            turns.append(HistoryTurn(messages, started, iso_utc(), model, provider))


Chunks = list[tuple[float, dict[str, Any] | Event]]
"""(pause in delay units, Agents-API wire chunk) pairs; an event stands for what that API has no
chunk for (an approval request, reasoning)."""


@dataclass(frozen=True, slots=True)
class Script:
    """A scripted turn: its chunks, and the question and answer its history keeps (if it ends)."""

    chunks: Chunks
    question: str
    answer: str | None


def _script(query: TurnRequest) -> Script:
    """Return the scripted turn the query asks for.

    That is: what follows decisions on the guarded call; with no client functions, the guarded
    call when the question names the tool, else the usual turn; a client function call; or the
    answer given that call's output.
    """
    if query.approval_decisions:
        answer = decided_answer(query.approval_decisions)
        return Script(decided_chunks(query.approval_decisions, answer), "", answer)
    if not query.client_tools or query.function_choice == "none":
        if GUARDED_TOOL in query.query:
            return Script(guarded_chunks(f"approval_{uuid.uuid4().hex}"), query.query, None)
        return Script(demo_chunks(query.query), query.query, ANSWER)
    if query.function_outputs:
        answer = "The tool returned: " + "\n".join(done.output for done in query.function_outputs)
        return Script(answered_chunks(answer), "", answer)
    named = [f for f in query.functions if f.name == query.forced_function]
    function = (named or list(query.functions))[0]
    return Script(calling_chunks(query.query, function), query.query, None)


def guarded_chunks(approval_id: str) -> Chunks:
    """Return the turn that calls the guarded tool and pauses for its approval.

    The call's id is the approval id, as in an MCP approval request.
    """
    call = _call(approval_id, GUARDED_TOOL, GUARDED_ARGUMENTS)
    request = ApprovalRequestEvent(
        step="inference",
        approval_id=approval_id,
        call_id=approval_id,
        name=GUARDED_TOOL,
        arguments=GUARDED_ARGUMENTS,
        server_label=MODEL.provider_id,
        description=GUARDED_DESCRIPTION,
    )
    return [
        (0, _payload("turn_start", turn_id="demo-turn")),
        (1, _step("step_start", "inference", "demo-infer-guarded")),
        (2, _tool_delta("demo-infer-guarded", "succeeded", call)),
        (0, request),
        (1, _step("step_complete", "inference", "demo-infer-guarded")),
        (0, _payload("turn_awaiting_input", turn={"output_message": {"role": "assistant"}})),
    ]


def decided_answer(decisions: tuple[ApprovalDecision, ...]) -> str:
    """Return the answer after the decisions on the guarded tool: what ran, what did not."""
    said = []
    for decision in decisions:
        if decision.approved:
            said.append(f"I ran {GUARDED_TOOL}: agent-stream-gateway restarted, 3 replicas ready.")
        else:
            why = f" Reason: {decision.reason}" if decision.reason else ""
            said.append(f"I did not run {GUARDED_TOOL}: it was not approved.{why}")
    return " ".join(said)


def decided_chunks(decisions: tuple[ApprovalDecision, ...], answer: str) -> Chunks:
    """Return the turn that goes on after the decisions: the approved calls run, then `answer`."""
    chunks: Chunks = []
    for number, decision in enumerate(decisions, start=1):
        if decision.approved:
            step_id = f"demo-tool-guarded-{number}"
            details = _tool_run(decision.approval_id, GUARDED_TOOL, GUARDED_ARGUMENTS)
            chunks += [
                (1, _step("step_start", "tool_execution", step_id)),
                (6, _step("step_complete", "tool_execution", step_id, step_details=details)),
            ]
    return chunks + answered_chunks(answer)


def answered_chunks(answer: str) -> Chunks:
    """Return the turn that goes on with a client function's output: an answer quoting it."""
    chunks: Chunks = [(1, _step("step_start", "inference", "demo-infer-4"))]
    chunks += [(1, _text("demo-infer-4", word)) for word in _words(answer)]
    chunks += [
        (1, _step("step_complete", "inference", "demo-infer-4")),
        (
            0,
            _payload(
                "turn_complete", turn={"output_message": {"role": "assistant", "content": answer}}
            ),
        ),
    ]
    return chunks


def calling_chunks(question: str, function: ClientFunction) -> Chunks:
    """Return the usual turn up to its answer, then a call of the client's function, paused."""
    chunks = demo_chunks(question)
    answer_starts = next(i for i, (_, c) in enumerate(chunks) if _step_id(c) == "demo-infer-3")
    call = _call("demo-client-call-1", function.name, example_arguments(function.parameters))
    return [
        *chunks[:answer_starts],
        (1, _step("step_start", "inference", "demo-infer-client")),
        (2, _tool_delta("demo-infer-client", "succeeded", call)),
        (1, _step("step_complete", "inference", "demo-infer-client")),
        (0, _payload("turn_awaiting_input", turn={"output_message": {"role": "assistant"}})),
    ]


def example_arguments(schema: dict[str, Any] | None) -> dict[str, Any]:
    """Return arguments that fit a JSON Schema's required properties: one example of each type."""
    if not schema:
        return {}
    examples: dict[str, Any] = {"string": "demo", "integer": 1, "number": 1, "boolean": True}
    examples |= {"array": [], "object": {}}
    properties = schema.get("properties") or {}
    return {
        name: examples.get(str((properties.get(name) or {}).get("type")), "demo")
        for name in schema.get("required") or ()
    }


def _step_id(chunk: dict[str, Any] | Event) -> object:
    return chunk["event"]["payload"].get("step_id") if isinstance(chunk, dict) else None


def demo_chunks(question: str) -> Chunks:
    """Return the scripted turn as (pause in delay units, Agents-API wire chunk) pairs."""
    chunks: Chunks = [
        (0, _payload("turn_start", turn_id="demo-turn")),
        (1, _step("step_start", "shield_call", "demo-shield-in")),
        (
            2,
            _step(
                "step_complete", "shield_call", "demo-shield-in", step_details={"violation": None}
            ),
        ),
        (1, _step("step_start", "inference", "demo-infer-1")),
        (2, _tool_delta("demo-infer-1", "started", "")),
        (1, _tool_delta("demo-infer-1", "in_progress", "[knowledge_search(query=")),
        (
            1,
            _tool_delta(
                "demo-infer-1",
                "succeeded",
                _call("demo-call-1", "knowledge_search", {"query": question}),
            ),
        ),
        (1, _step("step_complete", "inference", "demo-infer-1")),
        (1, _step("step_start", "tool_execution", "demo-tool-1")),
        (
            SEARCH_PAUSE,
            _step(
                "step_complete",
                "tool_execution",
                "demo-tool-1",
                step_details=_knowledge_search(question),
            ),
        ),
        (1, _step("step_start", "inference", "demo-infer-2")),
        (
            2,
            _tool_delta(
                "demo-infer-2",
                "succeeded",
                _call("demo-call-2", "get_gateway_status", {"replicas": 3}),
            ),
        ),
        (1, _step("step_complete", "inference", "demo-infer-2")),
        (1, _step("step_start", "tool_execution", "demo-tool-2")),
        (6, _step("step_complete", "tool_execution", "demo-tool-2", step_details=_status_tool())),
        (1, _step("step_start", "inference", "demo-infer-3")),
    ]
    if asks_to_think(question):
        chunks += [(1, ReasoningDeltaEvent(step="inference", text=w)) for w in _words(REASONING)]
    chunks += [(1, _text("demo-infer-3", word)) for word in _words(ANSWER)]
    chunks += [
        (1, _step("step_complete", "inference", "demo-infer-3")),
        (1, _step("step_start", "shield_call", "demo-shield-out")),
        (
            2,
            _step(
                "step_complete", "shield_call", "demo-shield-out", step_details={"violation": None}
            ),
        ),
        (
            0,
            _payload(
                "turn_complete", turn={"output_message": {"role": "assistant", "content": ANSWER}}
            ),
        ),
    ]
    return chunks


def asks_to_think(question: str) -> bool:
    """Whether the question asks the demo agent to think (has the word "think" in it)."""
    return re.search(r"\bthink\b", question, re.IGNORECASE) is not None


def _payload(event_type: str, **fields: Any) -> dict[str, Any]:
    return {"event": {"payload": {"event_type": event_type, **fields}}}


def _step(event_type: str, step_type: str, step_id: str, **fields: Any) -> dict[str, Any]:
    return _payload(event_type, step_type=step_type, step_id=step_id, **fields)


def _call(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"call_id": call_id, "tool_name": name, "arguments": arguments}


def _tool_delta(step_id: str, status: str, call: str | dict[str, Any]) -> dict[str, Any]:
    delta = {"type": "tool_call", "parse_status": status, "tool_call": call}
    return _step("step_progress", "inference", step_id, delta=delta)


def _text(step_id: str, text: str) -> dict[str, Any]:
    return _step("step_progress", "inference", step_id, delta={"type": "text", "text": text})


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [word + " " for word in words[:-1]] + words[-1:]


def _knowledge_search(question: str) -> dict[str, Any]:
    items = [
        {
            "type": "text",
            "text": "knowledge_search tool found 2 chunks:\n"
            "BEGIN of knowledge_search tool results.\n",
        }
    ]
    for number, (url, title) in enumerate(DOCUMENTS, start=1):
        metadata = {"docs_url": url, "title": title, "document_id": f"demo-doc-{number}"}
        items.append(
            {
                "type": "text",
                "text": f"Result {number}\nContent: {title}.\nMetadata: {metadata!r}\n",
            }
        )
    items.append({"type": "text", "text": "END of knowledge_search tool results.\n"})
    call = _call("demo-call-1", "knowledge_search", {"query": question})
    response = {"call_id": "demo-call-1", "tool_name": "knowledge_search", "content": items}
    return {"tool_calls": [call], "tool_responses": [response]}


def _status_tool() -> dict[str, Any]:
    status = '{"replicas_ready": 3, "heartbeat_interval_s": 5}'
    return _tool_run("demo-call-2", "get_gateway_status", {"replicas": 3}, status)


def _tool_run(
    call_id: str, name: str, arguments: dict[str, Any], result: str = GUARDED_RESULT
) -> dict[str, Any]:
    content = [{"type": "text", "text": result}]
    response = {"call_id": call_id, "tool_name": name, "content": content}
    return {"tool_calls": [_call(call_id, name, arguments)], "tool_responses": [response]}
