"""The `a2a` format: A2A 1.0 `SendStreamingMessage` results, as `a2a-sdk`'s client reads them.

One task per stream, each frame a JSON-RPC response whose `result` is a `StreamResponse`: the
task (`TASK_STATE_SUBMITTED`), a `TASK_STATE_WORKING` status, the answer as chunks of one
artifact (`artifactUpdate`, `append` after the first), each tool the agent ran as a working
status whose message holds a data part (`toolCall`, then `toolResult`; a reasoning block whole, as
`reasoning`), then a
`TASK_STATE_COMPLETED` status — or `TASK_STATE_FAILED` (`TASK_STATE_CANCELED` when interrupted)
with the error as the status message's text, after which nothing follows. Heartbeats are SSE
comments. `TaskAssembler` folds the same results into the `Task` that `GetTask` returns.
A turn that waits for tool approvals ends its stream with a `TASK_STATE_INPUT_REQUIRED` status
whose message asks for them (a text part, then an `approvalRequest` data part each): not in
TERMINAL_STATES, so a reply naming the task with `{approval_id, approved, reason}` data parts
continues it.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any, ClassVar

from formatters.approval_words import announced_call, arguments_object, refused_result
from formatters.base import ApprovalChannel, Formatter, Frame, FrameValue
from formatters.event_json import SLOT, TextTemplate, compact_json
from formatters.events import (
    ApprovalRequestEvent,
    ApprovalResultEvent,
    DocumentsEvent,
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    JsonObject,
    ReasoningDeltaEvent,
    StartEvent,
    TextDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnCompleteEvent,
    UsageEvent,
    content_text,
)
from formatters.frames import KEEP_ALIVE, data_frame
from formatters.usage import TokenCounts, UsageSoFar, reported

SUBMITTED = "TASK_STATE_SUBMITTED"
WORKING = "TASK_STATE_WORKING"
COMPLETED = "TASK_STATE_COMPLETED"
FAILED = "TASK_STATE_FAILED"
CANCELED = "TASK_STATE_CANCELED"
INPUT_REQUIRED = "TASK_STATE_INPUT_REQUIRED"
TERMINAL_STATES = frozenset({COMPLETED, FAILED, CANCELED, "TASK_STATE_REJECTED"})
"""States after which a task changes no more (A2A's terminal states)."""
ANSWER_ARTIFACT = "answer"
"""The id (and name) of the artifact that holds a task's answer."""
_CANCELED_CODES = frozenset({"interrupted"})
"""Error codes that mean the task was stopped on request (`CancelTask`, the interrupt route)."""

RpcId = str | int | None
"""A JSON-RPC request id."""


def new_id() -> str:
    """Return a fresh id for a task or a context."""
    return str(uuid.uuid4())


def rpc_result(rpc_id: RpcId, result: JsonObject) -> JsonObject:
    """Return the JSON-RPC 2.0 response that carries `result`."""
    return {"jsonrpc": "2.0", "id": rpc_id, "result": result}


class TaskEvents:
    """Maps one turn's normalized events to A2A `StreamResponse` objects, in A2A's order.

    The task's id is known before the turn starts (the route chose it); its context id is the
    client's, else the conversation's.
    """

    def __init__(self, *, task_id: str, context_id: str | None) -> None:
        self.task_id = task_id
        self.context_id = context_id
        self._answered = False
        self._tool_calls: set[str] = set()
        self._documents: list[JsonObject] = []
        self.messages = 0
        """Status messages sent so far: the n-th is `<task id>-<n>`."""
        self.ended = False
        """Whether the final status went out: A2A allows nothing after it."""
        self._reasoning: list[str] = []
        """The model's reasoning so far, sent as one working status when the next event comes."""
        self.usage = UsageSoFar()
        """The usage reported so far: a failed or canceled status's metadata carries it."""
        self._approvals: list[JsonObject] = []
        """The approvals the turn waits for: the input-required status asks for them."""

    def results(self, event: Event) -> list[JsonObject]:
        """Return the `StreamResponse` objects for one normalized event.

        Reasoning is gathered and goes out whole, before the next event's results, as a working
        status whose message holds the data part `{"reasoning": text}`.
        """
        if self.ended:
            return []
        if type(event) is ReasoningDeltaEvent:
            if event.text:
                self._reasoning.append(event.text)
            return []
        if not self._reasoning:
            return self._results(event)
        thought = self._working({"reasoning": "".join(self._reasoning)})
        self._reasoning.clear()
        return [thought, *self._results(event)]

    def _results(self, event: Event) -> list[JsonObject]:
        match event:
            case TextDeltaEvent(text=text) if text:
                return [self._chunk(text)]
            case StartEvent(conversation_id=conversation_id):
                self.context_id = self.context_id or conversation_id
                return [{"task": {**self._ids(), "status": {"state": SUBMITTED}}}, self._working()]
            case ToolCallEvent(call_id=call_id) if call_id not in self._tool_calls:
                self._tool_calls.add(call_id)
                call = {"id": call_id, "name": event.name, "arguments": event.arguments}
                return [self._working({"toolCall": call})]
            case ToolResultEvent():
                result = {
                    "id": event.call_id,
                    "name": event.name,
                    "content": content_text(event.content, "\n"),
                    "failed": event.failed,
                }
                return [self._working({"toolResult": result})]
            case ApprovalRequestEvent(call_id=call_id):
                self._approvals.append(approval_request(event))
                return [] if call_id in self._tool_calls else self.results(announced_call(event))
            case ApprovalResultEvent() if not event.approved:
                return self.results(refused_result(event))
            case DocumentsEvent(documents=documents):
                self._documents.extend(document.model_dump() for document in documents)
            case TurnCompleteEvent(text=text) if text and not self._answered:
                return [self._chunk(text)]
            case UsageEvent():
                self.usage.add(event)
            case ErrorEvent(message=message, code=code):
                state = CANCELED if code in _CANCELED_CODES else FAILED
                metadata: JsonObject = {"code": code}
                if reported(self.usage):
                    metadata["usage"] = task_usage(self.usage)
                return [self._final(state, {"text": message}, metadata)]
            case EndEvent() if self._approvals:
                return [self._input_required(event)]
            case EndEvent():
                return [self._final(COMPLETED, None, self._outcome(event))]
        return []

    @property
    def appending(self) -> bool:
        """Whether a text now is one more chunk of the answer (the task still open)."""
        return self._answered and not self.ended and not self._reasoning

    def _ids(self, task_key: str = "id") -> JsonObject:
        return {task_key: self.task_id, "contextId": self.context_id or ""}

    def _chunk(self, text: str) -> JsonObject:
        artifact = {
            "artifactId": ANSWER_ARTIFACT,
            "name": ANSWER_ARTIFACT,
            "parts": [{"text": text}],
        }
        update = {**self._ids("taskId"), "artifact": artifact}
        if self._answered:
            update["append"] = True
        self._answered = True
        return {"artifactUpdate": update}

    def _message(self, part: JsonObject) -> JsonObject:
        self.messages += 1
        return {
            "messageId": f"{self.task_id}-{self.messages}",
            **self._ids("taskId"),
            "role": "ROLE_AGENT",
            "parts": [part],
        }

    def _working(self, data: JsonObject | None = None) -> JsonObject:
        status: JsonObject = {"state": WORKING}
        if data is not None:
            status["message"] = self._message({"data": data, "mediaType": "application/json"})
        return {"statusUpdate": {**self._ids("taskId"), "status": status}}

    def _final(self, state: str, part: JsonObject | None, metadata: JsonObject) -> JsonObject:
        self.ended = True
        status: JsonObject = {"state": state}
        if part is not None:
            status["message"] = self._message(part)
        update = {**self._ids("taskId"), "status": status, "metadata": metadata}
        return {"statusUpdate": update}

    def _input_required(self, end: EndEvent) -> JsonObject:
        """Return the final status that asks for the approvals: a text, then a data part each."""
        names = ", ".join(approval["name"] for approval in self._approvals)
        text = f"Approve or deny running {names}: reply to this task with a data part each."
        update = self._final(INPUT_REQUIRED, {"text": text}, self._outcome(end))
        parts = [{"data": {"approvalRequest": a}, "mediaType": JSON} for a in self._approvals]
        update["statusUpdate"]["status"]["message"]["parts"].extend(parts)
        return update

    def _outcome(self, end: EndEvent) -> JsonObject:
        documents = [document.model_dump() for document in end.referenced_documents]
        outcome: JsonObject = {
            "usage": task_usage(end),
            "referencedDocuments": documents or self._documents,
        }
        if end.truncated is not None:
            outcome["truncated"] = end.truncated
        return outcome


JSON = "application/json"


def approval_request(event: ApprovalRequestEvent) -> JsonObject:
    """Return an `approvalRequest` data part's object; the reply names its `approval_id`."""
    request = {
        "approval_id": event.approval_id,
        "tool_call_id": event.call_id,
        "name": event.name,
        "arguments": arguments_object(event.arguments),
        "server_label": event.server_label,
        "description": event.description,
    }
    return {key: value for key, value in request.items() if value is not None}


class A2aFormatter(Formatter):
    """A2A 1.0 streaming results over SSE, as `a2a-sdk`'s JSON-RPC client reads them."""

    name = "a2a"
    description = (
        "A2A 1.0 SendStreamingMessage results (JSON-RPC): the task, status updates, the answer "
        "as artifact chunks, then a completed or failed status"
    )

    error_ends_stream = True
    approvals: ClassVar[ApprovalChannel] = "request"

    def __init__(
        self, *, task_id: str | None = None, context_id: str | None = None, rpc_id: RpcId = None
    ) -> None:
        self.events = TaskEvents(task_id=task_id or new_id(), context_id=context_id)
        self._rpc_id = rpc_id
        self._text_chunk: tuple[str | None, TextTemplate | None] | None = None
        """The appended answer chunk's template, for the context id it was made with."""

    def format(self, event: Event) -> list[FrameValue]:
        """Return one `data:` frame per A2A result; a comment for heartbeats."""
        if (text := self._text_json(event)) is not None:  # most events: one more answer chunk
            return [data_frame(text)]
        if isinstance(event, HeartbeatEvent):
            return [KEEP_ALIVE]
        return [
            Frame(compact_json(rpc_result(self._rpc_id, result)))
            for result in self.events.results(event)
        ]

    def _text_json(self, event: Event) -> str | None:
        """Return a text delta's appended answer chunk as JSON, written out; None if not one."""
        events = self.events
        if type(event) is not TextDeltaEvent or not event.text or not events.appending:
            return None
        cached = self._text_chunk
        if cached is None or cached[0] != events.context_id:
            result = rpc_result(
                self._rpc_id, events.results(event.model_copy(update={"text": SLOT}))[0]
            )
            cached = self._text_chunk = (events.context_id, TextTemplate.of(result))
        if cached[1] is None:
            return None
        return cached[1].fill(event.text)

    def closer(self) -> A2aFormatter:
        """Return a fresh formatter of the same task that knows whether it already ended."""
        events = self.events
        closer = A2aFormatter(task_id=events.task_id, context_id=events.context_id)
        closer._rpc_id = self._rpc_id
        closer.events.ended = events.ended
        closer.events.messages = events.messages
        closer.events.usage = events.usage.copy()
        return closer


def task_usage(counts: TokenCounts) -> JsonObject:
    """Return the `usage` of a final status's metadata: the task's token counts."""
    return {"inputTokens": counts.input_tokens, "outputTokens": counts.output_tokens}


class TaskAssembler:
    """Folds `StreamResponse` objects into the `Task` they describe, as A2A clients do.

    Status messages go to the task's history; the answer's chunks join into one text part.
    """

    def __init__(self) -> None:
        self.task: JsonObject | None = None

    @property
    def state(self) -> str | None:
        """The task's state so far; None before its first result."""
        return None if self.task is None else self.task["status"]["state"]

    def add(self, result: JsonObject) -> None:
        """Fold one result in (results of another kind than a task's are ignored)."""
        if "task" in result:
            self.task = copy.deepcopy(result["task"])
            self.task.setdefault("artifacts", [])
            self.task.setdefault("history", [])
            return
        if self.task is None:
            return
        if "statusUpdate" in result:
            update = result["statusUpdate"]
            self.task["status"] = copy.deepcopy(update["status"])
            if "message" in update["status"]:
                self.task["history"].append(copy.deepcopy(update["status"]["message"]))
            if "metadata" in update:
                self.task["metadata"] = copy.deepcopy(update["metadata"])
        elif "artifactUpdate" in result:
            self._artifact(result["artifactUpdate"])

    def _artifact(self, update: JsonObject) -> None:
        assert self.task is not None
        artifact = update["artifact"]
        artifacts: list[JsonObject] = self.task["artifacts"]
        known = next((a for a in artifacts if a["artifactId"] == artifact["artifactId"]), None)
        if known is None or not update.get("append"):
            if known is not None:
                artifacts.remove(known)
            artifacts.append(copy.deepcopy(artifact))
            return
        for part in artifact["parts"]:
            last = known["parts"][-1] if known["parts"] else None
            if last is not None and set(last) == {"text"} and set(part) == {"text"}:
                last["text"] += part["text"]
            else:
                known["parts"].append(copy.deepcopy(part))

    def snapshot(self, history_length: int | None = None) -> JsonObject:
        """Return the task as it stands, its history cut to the last `history_length` messages."""
        assert self.task is not None
        task: dict[str, Any] = copy.deepcopy(self.task)
        if history_length is not None:
            task["history"] = task["history"][-history_length:] if history_length else []
        if not task["artifacts"]:
            del task["artifacts"]
        if not task["history"]:
            del task["history"]
        return task
