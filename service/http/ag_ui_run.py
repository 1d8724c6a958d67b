"""`POST /v1/ag-ui`: an AG-UI `RunAgentInput` runs one agent turn, streamed as AG-UI events."""

from __future__ import annotations

from typing import Any

from ag_ui.core import (
    AssistantMessage,
    DeveloperMessage,
    Message,
    ResumeEntry,
    RunAgentInput,
    SystemMessage,
    TextPart,
    UserMessage,
)
from aiohttp import web

from formatters.ag_ui import AgUiFormatter
from service.approvals.desk import APPROVAL_REFUSALS
from service.conversations.owners import request_owner
from service.conversations.threads import ThreadMap
from service.errors import Rejected, refusal
from service.http.models.chat import UnsupportedRequest, question_of
from service.http.request_body import read_json
from service.keys import BINDINGS
from service.route_spec import Answer, declare
from service.streams.non_streamed import UNAVAILABLE
from service.streams.session import StreamSession
from service.streams.state import SLOT_REFUSALS
from service.upstream import Turn
from service.upstream.turn import ApprovalDecision, TurnRequest

AG_UI_PATH = "/v1/ag-ui"
ag_ui_routes = web.RouteTableDef()


@ag_ui_routes.post(AG_UI_PATH)
@declare(
    "Run one agent turn from an AG-UI RunAgentInput; AG-UI events stream back.",
    {
        200: Answer("The `ag-ui` SSE format.", stream=True),
        422: refusal("A run an agent turn cannot answer (the cause names the message)."),
        503: UNAVAILABLE,
    },
    SLOT_REFUSALS,
    APPROVAL_REFUSALS,
    body=RunAgentInput,
)
async def run_agent(request: web.Request) -> web.StreamResponse:
    """Run the thread's next turn: the last user message, in the caller's own conversation."""
    body = await read_json(request, RunAgentInput)
    threads = ThreadMap(request.app[BINDINGS])
    owner = request_owner(request)
    conversation = await threads.conversation(owner, body.thread_id)
    try:
        query = to_turn(body, conversation)
    except UnsupportedRequest as exc:
        raise Rejected(422, "Unsupported request", exc.cause) from exc

    async def bind(turn: Turn) -> None:
        await threads.bind(owner, body.thread_id, turn.conversation_id)

    formatter = AgUiFormatter(thread_id=body.thread_id, run_id=body.run_id)
    with StreamSession(request) as session:
        return await session.stream(
            query, formatter, on_start=bind if conversation is None else None
        )


def to_turn(body: RunAgentInput, conversation_id: str | None) -> TurnRequest:
    """Return the agent turn of a run: in a known thread its last message, else the history.

    A run that resumes an interrupted one (`resume`) goes on with its approval decisions.
    """
    if body.resume:
        return _resumed(body.resume, conversation_id)
    instructions: list[str] = []
    turns: list[tuple[str, str]] = []
    for position, message in enumerate(body.messages):
        if isinstance(message, SystemMessage | DeveloperMessage):
            instructions.append(message.content)
        elif isinstance(message, UserMessage | AssistantMessage):
            turns.append((message.role, _text(message, f"messages[{position}]")))
    return TurnRequest(
        query=question_of(turns, continuing=conversation_id is not None),
        conversation_id=conversation_id,
        system_prompt="\n\n".join(instructions) or None,
    )


def _resumed(entries: list[ResumeEntry], conversation_id: str | None) -> TurnRequest:
    """Return the turn that answers the interrupts: a payload `{approved, reason}` each.

    An entry `cancelled` abandons its approval: the tool is denied.
    """
    if conversation_id is None:
        raise UnsupportedRequest("resume: this thread has no interrupted run to resume")
    decisions = []
    for position, entry in enumerate(entries):
        if entry.status == "cancelled":
            decisions.append(ApprovalDecision(entry.interrupt_id, False, "cancelled"))
            continue
        approved, reason = _approval(entry.payload, f"resume[{position}].payload")
        decisions.append(ApprovalDecision(entry.interrupt_id, approved, reason))
    return TurnRequest(
        query="", conversation_id=conversation_id, approval_decisions=tuple(decisions)
    )


def _approval(payload: Any, where: str) -> tuple[bool, str | None]:
    """Return an approval interrupt's answer (see formatters.ag_ui.APPROVAL_SCHEMA)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("approved"), bool):
        raise UnsupportedRequest(f'{where}: answer an approval with {{"approved": true|false}}')
    reason = payload.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise UnsupportedRequest(f"{where}.reason: must be text")
    return payload["approved"], reason


def _text(message: Message, where: str) -> str:
    content = getattr(message, "content", None)
    if content is None or isinstance(content, str):
        return content or ""
    texts = []
    for position, part in enumerate(content):
        if not isinstance(part, TextPart):
            raise UnsupportedRequest(
                f"{where}.content[{position}]: only text parts are supported, not {part.type!r}"
            )
        texts.append(part.text)
    return "".join(texts)
