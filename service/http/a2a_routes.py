"""A2A 1.0 over JSON-RPC: the agent card, and `POST /a2a` running one agent turn per task.

`SendStreamingMessage` streams the `a2a` format; `SendMessage` answers the finished task;
`GetTask`, `SubscribeToTask` and `CancelTask` reach tasks kept in the resume store. A client's
context id is mapped per caller to a conversation (`ThreadMap`); another caller's task or
context is never found. Every refusal is a JSON-RPC error (HTTP 200) with A2A's code.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel, RootModel, ValidationError

from formatters.a2a import A2aFormatter, TaskAssembler, TaskEvents, new_id, rpc_result
from formatters.events import Event, StartEvent
from service.conversations.owners import request_owner
from service.conversations.threads import ThreadMap
from service.errors import ERROR_PARTS, Rejected
from service.http.a2a_rpc import (
    A2aError,
    ContentTypeNotSupported,
    InternalError,
    InvalidParams,
    InvalidRequest,
    JsonParseError,
    MethodNotFound,
    TaskNotFound,
    UnsupportedOperation,
    VersionNotSupported,
    a2a_error_shape,
    error_answer,
    from_refusal,
)
from service.http.a2a_tasks import TaskLog
from service.http.models.a2a import (
    APPROVAL_REPLY,
    PROTOCOL_VERSION,
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    JsonRpcErrorResponse,
    JsonRpcRequest,
    JsonRpcResult,
    RpcId,
    SendMessageRequest,
    TaskRequest,
    approval_decisions,
)
from service.http.request_body import read_body, validation_cause
from service.keys import BINDINGS, RESUMER, SETTINGS
from service.resume.ids import new_stream_id
from service.resume.store import StoreUnavailable
from service.route_spec import (
    Answer,
    ErrorDialect,
    ErrorParts,
    ServerSentEvent,
    auth_on,
    declare,
)
from service.streams.non_streamed import TASK, answer_turn
from service.streams.session import StreamSession
from service.upstream import Turn
from service.upstream.turn import ApprovalDecision, TurnRequest

A2A_PATH = "/a2a"
CARD_PATH = "/.well-known/agent-card.json"
VERSION_HEADER = "A2A-Version"
a2a_routes = web.RouteTableDef()


class JsonRpcResponse(RootModel[JsonRpcResult | JsonRpcErrorResponse]):
    """A JSON-RPC answer of the A2A endpoint: a result, or an error."""


@a2a_routes.get(CARD_PATH)
@declare(
    "The A2A agent card: how to reach this agent (A2A 1.0, JSON-RPC).",
    {200: Answer("The agent card.", AgentCard)},
)
async def agent_card(request: web.Request) -> web.Response:
    """Return the agent card; its URL is A2A_PUBLIC_URL's, else the request's own origin."""
    settings = request.app[SETTINGS]
    base = settings.a2a_public_url or f"{request.scheme}://{request.host}"
    card = AgentCard(
        name="agent-stream-gateway",
        description="An agent turn per task: the llama-stack agent behind this gateway.",
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(
                url=f"{base.rstrip('/')}{A2A_PATH}",
                protocol_binding="JSONRPC",
                protocol_version=PROTOCOL_VERSION,
            )
        ],
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[
            AgentSkill(
                id="agent-turn",
                name="Ask the agent",
                description=(
                    "One question to the agent, answered with its tools. A tool that needs "
                    "approval ends the task TASK_STATE_INPUT_REQUIRED with an approvalRequest "
                    f"data part: {APPROVAL_REPLY}."
                ),
                tags=["chat", "agent"],
            )
        ],
        **(BEARER if auth_on(settings) else {}),
    )
    return web.json_response(card.model_dump(by_alias=True, exclude_none=True))


BEARER: dict[str, Any] = {
    "security_schemes": {"bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer"}}},
    "security_requirements": [{"schemes": {"bearer": {"list": []}}}],
}
"""What the card says when auth is on: every request carries `Authorization: Bearer <token>`."""


A2A_ERRORS = ErrorDialect(JsonRpcErrorResponse, a2a_error_shape)
"""The error dialect of `POST /a2a`: JSON-RPC errors, on HTTP 200 but for auth's."""


@a2a_routes.post(A2A_PATH)
@declare(
    "A2A 1.0 JSON-RPC: SendMessage, SendStreamingMessage, GetTask, SubscribeToTask, CancelTask.",
    {
        200: Answer(
            "A JSON-RPC result or error; SendStreamingMessage and SubscribeToTask stream the "
            "`a2a` SSE format (each event's data one JSON-RPC response).",
            JsonRpcResponse,
            content={"text/event-stream": ServerSentEvent},
        ),
    },
    body=JsonRpcRequest,
    errors=A2A_ERRORS,
)
async def a2a_rpc(request: web.Request) -> web.StreamResponse:
    """Answer one JSON-RPC request; any refusal is its JSON-RPC error."""
    rpc_id: RpcId = None
    try:
        envelope = await _envelope(request)
        rpc_id = envelope.id
        _check_version(request)
        method = _METHODS.get(envelope.method)
        if method is None:
            raise MethodNotFound(f"Method not found: {envelope.method}")
        return await method(request, envelope.id, envelope.params)
    except A2aError as exc:
        return error_answer(exc.rpc_id if exc.rpc_id is not None else rpc_id, exc)
    except StoreUnavailable as exc:
        return error_answer(rpc_id, InternalError(f"The task store does not answer: {exc.reason}"))
    except Rejected as exc:
        if exc.close:
            raise  # the body cannot be trusted to end: the middleware answers and closes
        refused = from_refusal(ErrorParts(exc.status, exc.response, exc.cause))
        return error_answer(rpc_id, refused, exc.headers)


async def _envelope(request: web.Request) -> JsonRpcRequest:
    try:
        raw = await read_body(request)
    except web.HTTPRequestEntityTooLarge as exc:
        raise InvalidRequest(f"Payload too large ({exc.text})") from None
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JsonParseError(f"Invalid JSON payload: {exc}") from None
    try:
        return JsonRpcRequest.model_validate(body)
    except ValidationError as exc:
        raise InvalidRequest(
            f"Invalid JSON-RPC request: {validation_cause(exc)}", rpc_id=_readable_id(body)
        ) from None


def _readable_id(body: object) -> RpcId:
    """Return the id of a request that is no valid one, if it has a usable id."""
    rpc_id = body.get("id") if isinstance(body, dict) else None
    return rpc_id if isinstance(rpc_id, str | int) and not isinstance(rpc_id, bool) else None


def _check_version(request: web.Request) -> None:
    """Refuse a client that says it speaks another A2A version than 1.0 (none said: 1.0)."""
    version = request.headers.get(VERSION_HEADER, "").strip()
    if version and version.split(".")[:2] != PROTOCOL_VERSION.split("."):
        raise VersionNotSupported(
            f"A2A version {version} is not supported; this agent speaks {PROTOCOL_VERSION}"
        )


def _params[M: BaseModel](model: type[M], params: dict[str, Any]) -> M:
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise InvalidParams(f"Invalid params: {validation_cause(exc)}") from None


async def send_streaming_message(
    request: web.Request, rpc_id: RpcId, params: dict[str, Any]
) -> web.StreamResponse:
    """Run the message's turn as a new task, streamed in the `a2a` format."""
    turn = await _TurnRequest.read(request, params)
    formatter = A2aFormatter(task_id=turn.task_id, context_id=turn.context_id, rpc_id=rpc_id)
    with StreamSession(request) as session:
        answer = await session.stream(
            turn.query, formatter, stream_id=turn.stream_id, on_start=turn.on_start
        )
    _raise_refusal(answer)
    return answer


async def send_message(
    request: web.Request, rpc_id: RpcId, params: dict[str, Any]
) -> web.StreamResponse:
    """Run the message's turn as a new task; answer the ended task, its answer an artifact."""
    turn = await _TurnRequest.read(request, params)
    fold = TaskFold(TaskEvents(task_id=turn.task_id, context_id=turn.context_id))
    with StreamSession(request) as session:
        failed = await answer_turn(session, turn.query, fold.take, TASK)
    if fold.assembler.task is None or (failed is not None and failed.status == 499):
        _raise_refusal(failed)
    if turn.on_start is not None and fold.conversation_id:
        await turn.bind(fold.conversation_id)
    history = turn.history_length
    return web.json_response(rpc_result(rpc_id, {"task": fold.assembler.snapshot(history)}))


async def get_task(request: web.Request, rpc_id: RpcId, params: dict[str, Any]) -> web.Response:
    """Answer the caller's task as it stands (tasks streamed with resume on are kept)."""
    task = _params(TaskRequest, params)
    found = await TaskLog(request).get(task.id, task.history_length)
    return web.json_response(rpc_result(rpc_id, found))


async def subscribe_to_task(
    request: web.Request, rpc_id: RpcId, params: dict[str, Any]
) -> web.StreamResponse:
    """Stream the caller's running task as it stands, then every update after it."""
    task = _params(TaskRequest, params)
    return await TaskLog(request).subscribe(task.id, rpc_id)


async def cancel_task(request: web.Request, rpc_id: RpcId, params: dict[str, Any]) -> web.Response:
    """Stop the caller's running task (the interrupt); answer it canceled."""
    task = _params(TaskRequest, params)
    return web.json_response(rpc_result(rpc_id, await TaskLog(request).cancel(task.id)))


Method = Callable[[web.Request, RpcId, dict[str, Any]], Awaitable[web.StreamResponse]]
_METHODS: dict[str, Method] = {
    "SendMessage": send_message,
    "SendStreamingMessage": send_streaming_message,
    "GetTask": get_task,
    "SubscribeToTask": subscribe_to_task,
    "CancelTask": cancel_task,
}


def _raise_refusal(answer: web.StreamResponse | None) -> None:
    """Raise the A2A error of a refusal the turn answered (the upstream could not start it)."""
    parts = answer.get(ERROR_PARTS) if isinstance(answer, web.Response) else None
    if parts is not None:
        raise from_refusal(parts)
    if answer is None or answer.status == 499:
        raise InternalError("The turn ended before it started")


class _TurnRequest:
    """A message's turn: its query, its task id, its context mapped to the caller's conversation."""

    def __init__(
        self,
        query: TurnRequest,
        context_id: str,
        bind: Callable[[str], Awaitable[object]] | None,
        history: int | None,
        task_id: str | None = None,
    ) -> None:
        self.query, self.context_id, self.history_length = query, context_id, history
        self.task_id = task_id or new_stream_id()
        self.stream_id = new_stream_id() if task_id else self.task_id
        """Where the stream is kept: the task's id, but for a reply that continues a task."""
        self._bind = bind

    @property
    def on_start(self) -> Callable[[Turn], Awaitable[None]] | None:
        """What binds a new context to the turn's conversation once it started (None: known)."""
        return None if self._bind is None else self._started

    async def _started(self, turn: Turn) -> None:
        await self.bind(turn.conversation_id)

    async def bind(self, conversation_id: str) -> None:
        """Bind the message's new context to the conversation its turn started."""
        if self._bind is not None:
            await self._bind(conversation_id)

    @classmethod
    async def read(cls, request: web.Request, params: dict[str, Any]) -> _TurnRequest:
        body = _params(SendMessageRequest, params)
        message = body.message
        if message.role != "ROLE_USER":
            raise InvalidParams("message.role: must be ROLE_USER")
        try:
            decisions = approval_decisions(message.parts) if message.task_id else []
        except ValueError as exc:
            raise InvalidParams(str(exc)) from None
        if decisions:
            return await cls._continued(request, body, decisions)
        if message.task_id:
            await TaskLog(request).meta(message.task_id)  # TaskNotFound unless the caller's
            raise UnsupportedOperation(
                f"Task {message.task_id} has ended: a new message starts a new task"
            )
        question = _text(message.parts)
        threads = ThreadMap(request.app[BINDINGS])
        owner = request_owner(request)
        context_id = message.context_id or new_id()
        conversation = await threads.conversation(owner, context_id)

        async def bind(conversation_id: str) -> str:
            return await threads.bind(owner, context_id, conversation_id)

        query = TurnRequest(query=question, conversation_id=conversation)
        history = body.configuration.history_length if body.configuration else None
        return cls(query, context_id, bind if conversation is None else None, history)

    @classmethod
    async def _continued(
        cls, request: web.Request, body: SendMessageRequest, decisions: list[ApprovalDecision]
    ) -> _TurnRequest:
        """Return the turn that goes on with a reply's decisions, in the task's conversation.

        The task is found in the resume store (owner-checked), else by the reply's context id.
        """
        message = body.message
        if request.app.get(RESUMER) is not None:
            conversation: str | None = (
                await TaskLog(request).meta(message.task_id)
            ).conversation_id
        elif message.context_id:
            threads = ThreadMap(request.app[BINDINGS])
            conversation = await threads.conversation(request_owner(request), message.context_id)
        else:
            raise InvalidParams("message.contextId: name the task's context to answer it")
        if not conversation:
            raise TaskNotFound(
                f"No task has the id {message.task_id!r}: unknown, expired or not yours"
            )
        query = TurnRequest(
            query="", conversation_id=conversation, approval_decisions=tuple(decisions)
        )
        history = body.configuration.history_length if body.configuration else None
        context_id = message.context_id or conversation
        return cls(query, context_id, None, history, task_id=message.task_id)


def _text(parts: list[Any]) -> str:
    """Return the message's text: its text parts joined; other parts are refused."""
    texts = []
    for position, part in enumerate(parts):
        if part.kind != "text":
            raise ContentTypeNotSupported(
                f"message.parts[{position}]: only text parts are supported, not {part.kind}"
            )
        texts.append(part.text)
    text = "".join(texts)
    if not text.strip():
        raise InvalidParams("message.parts: the message has no text")
    return text


class TaskFold:
    """Folds a turn's events into its A2A task, as `SendMessage` answers it."""

    def __init__(self, events: TaskEvents) -> None:
        self._events = events
        self.assembler = TaskAssembler()
        self.conversation_id = ""

    def take(self, event: Event) -> None:
        """Fold one event in."""
        if isinstance(event, StartEvent):
            self.conversation_id = event.conversation_id
        for result in self._events.results(event):
            self.assembler.add(result)
