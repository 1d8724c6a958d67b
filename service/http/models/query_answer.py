"""lightspeed-stack 0.7.1's `QueryResponse`: one non-streamed turn folded into its JSON object."""

from __future__ import annotations

import json

from formatters.events import (
    EndEvent,
    Event,
    JsonObject,
    ShieldEvent,
    StartEvent,
    TextDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnCompleteEvent,
)
from formatters.pyrepr import interleaved_text
from service.http.models.lightspeed import (
    QueryAnswer,
    ReferencedDocument,
    ToolCallSummary,
    ToolResultSummary,
)


class QueryFold:
    """Folds a turn's events into `QueryResponse` fields, as lightspeed-stack 0.7.1 sums a turn.

    The answer is the turn's final text (or the text deltas if no final text came); a shield
    violation's message is the answer when there is no text. Each call is listed once. Tool
    rounds count as 0.7.1 does: a tool call after a tool result opens the next round.
    """

    def __init__(self) -> None:
        self.conversation_id: str | None = None
        self._deltas: list[str] = []
        self._final: str | None = None
        self._violation: str | None = None
        self._calls: list[ToolCallSummary] = []
        self._results: list[ToolResultSummary] = []
        self._round = 1
        self._result_seen = False
        self._end = EndEvent()

    def take(self, event: Event) -> None:
        """Fold one event in."""
        if isinstance(event, TextDeltaEvent):
            self._deltas.append(event.text)
        elif isinstance(event, StartEvent):
            self.conversation_id = event.conversation_id
        elif isinstance(event, TurnCompleteEvent):
            self._final = event.text
        elif isinstance(event, ToolCallEvent):
            self._call(event)
        elif isinstance(event, ToolResultEvent):
            self._result_seen = True
            self._results.append(
                ToolResultSummary(
                    id=event.call_id,
                    status="failure" if event.failed else "success",
                    content=interleaved_text(event.content),
                    round=self._round,
                )
            )
        elif isinstance(event, ShieldEvent) and event.violation is not None:
            self._violation = event.violation.user_message or self._violation
        elif isinstance(event, EndEvent):
            self._end = event

    def _call(self, event: ToolCallEvent) -> None:
        if any(call.id == event.call_id for call in self._calls):
            return  # the Agents API tells a call twice: as the model made it, and as it ran
        if self._result_seen:
            self._round += 1
            self._result_seen = False
        arguments = event.arguments
        if isinstance(arguments, str):
            arguments = _arguments(arguments)
        self._calls.append(ToolCallSummary(id=event.call_id, name=event.name, args=arguments))

    def answer(self) -> QueryAnswer:
        """Return the `QueryResponse` for everything folded in."""
        text = self._final if self._final is not None else "".join(self._deltas)
        end = self._end
        return QueryAnswer(
            conversation_id=self.conversation_id,
            response=text or self._violation or "",
            referenced_documents=[
                ReferencedDocument(
                    doc_url=document.url,
                    doc_title=document.title,
                    document_id=document.document_id,
                )
                for document in end.referenced_documents
            ],
            truncated=bool(end.truncated),
            input_tokens=end.input_tokens,
            output_tokens=end.output_tokens,
            tool_calls=self._calls,
            tool_results=self._results,
        )


def _arguments(raw: str) -> JsonObject:
    """Parse a call's JSON arguments; text that is no JSON object is kept under `input`."""
    try:
        value = json.loads(raw)
    except ValueError:
        return {"input": raw}
    return value if isinstance(value, dict) else {"input": raw}
