"""Responses API adapter for llama-stack 0.4+ and OGX 1.x: streams `POST /v1/responses`."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self

import aiohttp
import httpx
import orjson
import structlog
from llama_stack_client import (
    APIConnectionError,
    APIError,
    APIStatusError,
    AsyncLlamaStackClient,
    DefaultAioHttpClient,
    NotFoundError,
)
from llama_stack_client.types.response_create_params import (
    InputListOpenAIResponseMessageUnionOpenAIResponseInputFunctionToolCallOutputOpenAIResponseMcpApprovalResponse as InputItem,  # noqa: E501
)
from llama_stack_client.types.response_create_params import (
    InputListOpenAIResponseMessageUnionOpenAIResponseInputFunctionToolCallOutputOpenAIResponseMcpApprovalResponseOpenAIResponseInputFunctionToolCallOutput as FunctionOutputInput,  # noqa: E501
)
from llama_stack_client.types.response_create_params import (
    InputListOpenAIResponseMessageUnionOpenAIResponseInputFunctionToolCallOutputOpenAIResponseMcpApprovalResponseOpenAIResponseMcpApprovalRequest as ApprovalRequestInput,  # noqa: E501
)
from llama_stack_client.types.response_create_params import (
    InputListOpenAIResponseMessageUnionOpenAIResponseInputFunctionToolCallOutputOpenAIResponseMcpApprovalResponseOpenAIResponseMcpApprovalResponse as ApprovalResponseInput,  # noqa: E501
)
from llama_stack_client.types.response_create_params import (
    InputListOpenAIResponseMessageUnionOpenAIResponseInputFunctionToolCallOutputOpenAIResponseMcpApprovalResponseOpenAIResponseMessageInput as MessageInput,  # noqa: E501
)
from llama_stack_client.types.response_create_params import (
    InputListOpenAIResponseMessageUnionOpenAIResponseInputFunctionToolCallOutputOpenAIResponseMcpApprovalResponseOpenAIResponseMessageInputContentListOpenAIResponseInputMessageContentTextOpenAIResponseInputMessageContentImageOpenAIResponseInputMessageContentFileOpenAIResponseInputMessageContentText as InputText,  # noqa: E501
)
from llama_stack_client.types.response_create_params import (
    Tool,
    ToolChoice,
    ToolChoiceOpenAIResponseInputToolChoiceFunctionTool,
    ToolOpenAIResponseInputToolFileSearch,
    ToolOpenAIResponseInputToolFunction,
    ToolOpenAIResponseInputToolMcp,
    ToolOpenAIResponseInputToolMcpRequireApproval,
    ToolOpenAIResponseInputToolMcpRequireApprovalApprovalFilter,
)

from formatters.events import ErrorEvent, Event
from service.conversations.directory import Binding, ConversationDirectory
from service.conversations.owners import ConversationNotFound
from service.observability.exc_text import root_cause, safe_description
from service.settings import McpServer, Settings
from service.upstream import (
    LOST_UPSTREAM,
    TOO_LARGE,
    TRUNCATED,
    TURN_ENDS,
    HistoryTurn,
    ModelInfo,
    Readiness,
    ReadinessCache,
    Turn,
    UpstreamStreamError,
    UpstreamUnavailable,
    requested_model,
)
from service.upstream.batches import CancelSafeBatches
from service.upstream.history import history_turns
from service.upstream.json_chunks import exact_chunk, quick_chunk
from service.upstream.responses_normalizer import QUICK_READ_EVENTS, ResponsesNormalizer
from service.upstream.responses_sse import CappedClient
from service.upstream.server_profile import ServerProfile, missing_moderation_endpoint, profile_of
from service.upstream.sse import EventTooLarge, SSEDecoder
from service.upstream.texts import STREAM_ERROR, version_refused
from service.upstream.turn import ApprovalDecision, TurnRequest

log = structlog.get_logger(__name__)

CONVERSATION_ID = re.compile(r"conv_[0-9a-f]{48}")
"""llama-stack's conversation id format; the server refuses any other with HTTP 400."""

OWNER_METADATA_KEY = "agent_stream_gateway_owner"
"""The conversation metadata key that holds the owner digest of a conversation made with auth on."""


class ErrorLine(Exception):
    """The server streamed an `{"error": ...}` line in place of an event."""

    def __init__(self, body: object) -> None:
        message = body.get("message") if isinstance(body, dict) else None
        self.message = message if isinstance(message, str) and message else STREAM_ERROR
        super().__init__(self.message)
        self.body = body


class StatusError(Exception):
    """The server answered the turn request with an error status."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.text = text


class OpenStream:
    """An open Responses body: its response, its decoder and the events read so far."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.decoder = SSEDecoder()
        self.pending: list[object] = []
        self.done = False

    async def read(self) -> bool:
        """Read once from the body into `pending`; False once the body has ended."""
        while not self.pending and not self.done:
            chunk = await self.response.content.readany()
            if not chunk:
                self.done = True
                break
            for sse in self.decoder.feed(chunk):
                if sse.data.startswith("[DONE]"):
                    self.done = True
                    break
                quick = quick_chunk(sse.data)
                if type(quick) is dict and quick.get("type") in QUICK_READ_EVENTS:
                    self.pending.append(quick)
                    continue
                try:
                    self.pending.append(exact_chunk(sse.data, quick))
                except ValueError:
                    self.pending.append(_NOT_JSON)
        return bool(self.pending)

    def take(self) -> list[object]:
        """Return the events read and not yet taken."""
        pending, self.pending = self.pending, []
        return pending


_NOT_JSON = object()
"""Stands in for an event whose data is not JSON: the normalizer reads it as malformed."""


class ResponsesUpstream:
    """Streams turns from llama-stack's Responses API, one llama-stack conversation per chat.

    The `start` frame's conversation id is the llama-stack conversation (`conv_...`) the turn
    was added to; a client sends it back to continue. Set-up errors, including an error the
    server streams before its first event, become `UpstreamUnavailable` (HTTP 503). With auth
    on, each conversation's owner digest is in its llama-stack metadata, which every replica
    reads (once per process and owner) before continuing it.
    """

    name = "responses"
    client_functions = True

    def __init__(self, settings: Settings) -> None:
        if not settings.llama_stack_base_url:
            raise ValueError("the responses upstream needs LLAMA_STACK_BASE_URL")
        self._settings = settings
        self._setup_timeout = settings.upstream_connect_timeout
        timeout = httpx.Timeout(self._setup_timeout, read=None)
        api_key = settings.llama_stack_api_key
        self._client = CappedClient(
            base_url=settings.llama_stack_base_url.rstrip("/"),
            api_key=api_key.get_secret_value() if api_key is not None else None,
            timeout=timeout,
            max_retries=0,
            # streams at once each make set-up calls: the pool must not cap below the stream limit
            http_client=DefaultAioHttpClient(
                timeout=timeout,
                limits=httpx.Limits(
                    max_connections=settings.max_concurrent_streams + 16,
                    max_keepalive_connections=20,
                ),
            ),
        )
        self._default_model: str | None = settings.default_model
        self._readiness = ReadinessCache(settings.readiness_cache_seconds)
        self._directory = ConversationDirectory(
            ConversationMetadata(self._client, self._setup_timeout)
        )
        self._profile: ServerProfile | None = None
        self._session: aiohttp.ClientSession | None = None
        self._base = settings.llama_stack_base_url.rstrip("/")

    def _http(self) -> aiohttp.ClientSession:
        """Return the session turn streams are read with (made in the running loop on first use)."""
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._setup_timeout)
            # no connection cap: each open stream holds one upstream connection
            connector = aiohttp.TCPConnector(limit=0)
            self._session = aiohttp.ClientSession(timeout=timeout, connector=connector)
        return self._session

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client, the stream session and their connections."""
        await self._client.close()
        if self._session is not None:
            await self._session.close()

    async def start_turn(self, query: TurnRequest, *, owner: str | None = None) -> Turn:
        """Pick the model and conversation, open the stream and read its first event."""
        with self._unavailable_on_failure():
            await self._usable_server()
            model = await self._model(query)
            conversation = await self._conversation(query, owner)
            try:
                stream = await self._open(query, model, conversation)
            except ErrorLine as exc:
                if not (query.conversation_id and _is_not_found(exc)):
                    raise
                if owner is not None:
                    raise ConversationNotFound() from exc  # deleted since it was checked
                log.warning("unknown conversation_id, starting a new conversation")
                conversation = await self._new_conversation(None)
                stream = await self._open(query, model, conversation)
        return Turn(conversation_id=conversation, events=CancelSafeBatches(TurnReads(stream)))

    @contextlib.contextmanager
    def _unavailable_on_failure(self) -> Iterator[None]:
        """Turn the client's failures (status, connection, time-out) into UpstreamUnavailable."""
        try:
            yield
        except APIStatusError as exc:
            raise UpstreamUnavailable(_status_reason(exc)) from exc
        except StatusError as exc:
            reason = _status_text(exc.status, _json_or_none(exc.text), exc.text)
            raise UpstreamUnavailable(reason) from exc
        except (APIConnectionError, httpx.TransportError, aiohttp.ClientError) as exc:
            raise UpstreamUnavailable(_unreachable(exc), str(root_cause(exc))) from exc
        except (APIError, ErrorLine) as exc:
            raise UpstreamUnavailable(f"llama-stack refused the turn: {exc.message}") from exc
        except EventTooLarge as exc:
            raise UpstreamUnavailable(TOO_LARGE) from exc
        except TimeoutError as exc:
            raise UpstreamUnavailable(
                f"llama-stack did not answer within {self._setup_timeout:g} s"
            ) from exc

    async def models(self) -> list[ModelInfo]:
        """List the server's models (`GET /v1/models`), with their llama-stack metadata."""
        with self._unavailable_on_failure():
            async with asyncio.timeout(self._setup_timeout):
                listed = await self._client.models.list()
        return [
            ModelInfo(
                id=model.id,
                model_type=model.model_type or "unknown",
                provider_id=model.provider_id or "",
                provider_resource_id=model.provider_resource_id or "",
                created=model.created,
                owned_by=model.owned_by,
                metadata=dict(model.metadata or {}),
            )
            for model in listed
        ]

    async def history(self, conversation_id: str, owner: str | None) -> list[HistoryTurn]:
        """Return the conversation's messages, from llama-stack's conversation items."""
        with self._unavailable_on_failure():
            created_at = await self._readable(conversation_id, owner)
            async with asyncio.timeout(self._setup_timeout):
                pages = self._client.conversations.items.list(conversation_id, order="asc")
                items = [item.to_dict() async for item in pages]
        return history_turns(items, created_at)

    async def delete(self, conversation_id: str, owner: str | None) -> None:
        """Delete the conversation in llama-stack (its owner goes with its metadata)."""
        with self._unavailable_on_failure():
            await self._readable(conversation_id, owner)
            async with asyncio.timeout(self._setup_timeout):
                await self._client.conversations.delete(conversation_id)
        await self._directory.forget(conversation_id, owner)

    async def _readable(self, conversation_id: str, owner: str | None) -> int:
        """Return the conversation's creation time; ConversationNotFound unless `owner` may read."""
        if not CONVERSATION_ID.fullmatch(conversation_id):
            raise ConversationNotFound()  # the server would refuse it with HTTP 400
        if owner is not None and await self._directory.find(conversation_id, owner) is None:
            raise ConversationNotFound()
        try:
            async with asyncio.timeout(self._setup_timeout):
                conversation = await self._client.conversations.retrieve(conversation_id)
        except NotFoundError:
            raise ConversationNotFound() from None
        return conversation.created_at

    async def readiness(self) -> Readiness:
        """Ask the server's version, check the settings fit it, list its models; cached briefly."""
        return await self._readiness.get(self._ask_readiness)

    async def _ask_readiness(self) -> Readiness:
        try:
            profile = await self._server(refresh=True)
            problem = profile.unusable_setting(self._settings) or await self._moderation_problem(
                profile
            )
            if problem:
                answer = Readiness(False, problem)
            elif await self._listed_default_model():
                answer = Readiness(True)
            else:
                answer = Readiness(False, "llama-stack lists no LLM model")
        except APIStatusError as exc:
            answer = Readiness(False, _status_reason(exc))
        except (APIConnectionError, httpx.TransportError) as exc:
            answer = Readiness(False, _unreachable(exc), str(root_cause(exc)))
        except APIError as exc:
            answer = Readiness(False, f"llama-stack gave an unexpected answer: {exc.message}")
        except TimeoutError:
            answer = Readiness(
                False, f"llama-stack did not answer within {self._setup_timeout:g} s"
            )
        return answer

    async def _server(self, *, refresh: bool = False) -> ServerProfile:
        """Return the server's profile from GET /v1/version: asked once, and again on `refresh`."""
        if self._profile is None or refresh:
            async with asyncio.timeout(self._setup_timeout):
                info = await self._client.inspect.version()
            self._profile = profile_of(info.version)
            log.info("responses server version", server=self._profile.label)
        return self._profile

    async def _usable_server(self) -> ServerProfile:
        """Return the server's profile; UpstreamUnavailable if a guardrail setting cannot work."""
        profile = await self._server()
        if (problem := profile.unusable_setting(self._settings)) is not None:
            raise UpstreamUnavailable(problem)
        return profile

    async def _moderation_problem(self, profile: ServerProfile) -> str | None:
        if not (profile.moderation_switch and self._settings.responses_moderation):
            return None
        try:
            async with asyncio.timeout(self._setup_timeout):
                providers = await self._client.providers.list()
        except APIStatusError:  # e.g. 403 for a caller who may not list providers: not checkable
            return None
        listed = [{"api": p.api, "config": p.config} for p in providers]
        return missing_moderation_endpoint(profile, self._settings, listed)

    async def _model(self, query: TurnRequest) -> str:
        if (model := requested_model(query)) is not None:
            return model
        model = self._default_model or await self._listed_default_model()
        if model is None:
            raise UpstreamUnavailable("llama-stack lists no LLM model")
        return model

    async def _listed_default_model(self) -> str | None:
        async with asyncio.timeout(self._setup_timeout):
            models = await self._client.models.list()
        if self._default_model is None:
            self._default_model = next((m.id for m in models if m.model_type == "llm"), None)
        return self._default_model

    async def _conversation(self, query: TurnRequest, owner: str | None) -> str:
        if query.conversation_id is not None:
            if owner is not None:
                if await self._directory.find(query.conversation_id, owner) is None:
                    raise ConversationNotFound()
                return query.conversation_id
            if CONVERSATION_ID.fullmatch(query.conversation_id):
                return query.conversation_id
            log.warning("conversation_id is not a llama-stack conversation, starting a new one")
        return await self._new_conversation(owner)

    async def _new_conversation(self, owner: str | None) -> str:
        """Create a conversation (`POST /v1/conversations`) through the stream session.

        One per new chat, on the set-up path of every first turn: llama-stack-client's call
        cost as much CPU as the rest of the set-up (bench/profile.py, 200 streams at once).
        """
        body = {"metadata": {OWNER_METADATA_KEY: owner}} if owner is not None else {}
        async with (
            asyncio.timeout(self._setup_timeout),
            self._http().post(
                self._base + "/v1/conversations",
                data=orjson.dumps(body),
                headers=self._headers("application/json"),
            ) as response,
        ):
            text = await response.text(errors="replace")
        if response.status != 200:
            raise StatusError(response.status, text)
        created = _json_or_none(text)
        conversation = created.get("id") if isinstance(created, dict) else None
        if not isinstance(conversation, str):
            raise UpstreamUnavailable("llama-stack gave an unexpected answer: no conversation id")
        if owner is not None:
            await self._directory.add(conversation, Binding(owner))
        return conversation

    def _headers(self, accept: str) -> dict[str, str]:
        """Return the client's own headers (version, auth) for a request through the session."""
        headers = {k: v for k, v in self._client.default_headers.items() if isinstance(v, str)}
        headers["Accept"] = accept
        return headers

    async def _open(self, query: TurnRequest, model: str, conversation: str) -> OpenStream:
        """POST the turn and read until its first event; ErrorLine if that is an error line."""
        settings = self._settings
        tools = [] if query.no_tools else _tools(settings, query)
        tools += _functions(query)
        profile = await self._usable_server()
        body: dict[str, object] = {
            "input": _input(query),
            "model": model,
            "conversation": conversation,
            "stream": True,
        }
        if instructions := query.system_prompt or settings.agent_instructions:
            body["instructions"] = instructions
        if tools:
            body["tools"] = tools
        if (choice := _function_choice(query)) is not None:
            body["tool_choice"] = choice
        if settings.responses_reasoning_effort is not None:
            body["reasoning"] = {"effort": settings.responses_reasoning_effort}
        # OGX's `guardrails` is a bool, llama-stack's a list of shields
        if (guardrails := profile.guardrails(settings)) is not None:
            body["guardrails"] = guardrails
        headers = {**self._headers("text/event-stream"), **profile.headers()}
        async with asyncio.timeout(self._setup_timeout):
            response = await self._http().post(
                self._base + "/v1/responses", data=orjson.dumps(body), headers=headers
            )
            if response.status != 200:
                text = await response.text(errors="replace")
                response.release()
                if response.status == 426:
                    self._profile = None  # the server changed version: ask it again next time
                raise StatusError(response.status, text)
            stream = OpenStream(response)
            try:
                if not await stream.read():
                    raise UpstreamUnavailable("llama-stack ended the stream before its first event")
                first = stream.pending[0]
                if type(first) is dict and first.get("error"):
                    raise ErrorLine(first["error"])
            except BaseException:
                response.close()
                raise
        return stream


class TurnReads:
    """A turn's body read by read, into normalized events: `BatchReads`, cancel-safe.

    An error line ends the turn with its message; a body that ends before the turn did is cut
    short. A read cancelled while it waits for the body loses nothing (the bytes stay in the
    response's buffer, the events read so far in `OpenStream.pending`).
    """

    def __init__(self, stream: OpenStream) -> None:
        self._stream = stream
        self._normalizer = ResponsesNormalizer()
        self._index = 0
        self._ended = False
        self._then: BaseException | None = None
        """What the next read raises: the end, or the failure after the batch just returned."""

    async def next_batch(self) -> list[Event]:
        """Return the events of the next read of the body (never empty)."""
        stream = self._stream
        while True:
            if (then := self._then) is not None:
                self._then = StopAsyncIteration()  # as a generator does once it raised
                raise then
            try:
                more = await stream.read()
            except EventTooLarge as exc:
                self._fail(UpstreamStreamError(TOO_LARGE, "upstream_error"), exc)
                continue
            except (aiohttp.ClientError, ConnectionError, TimeoutError) as exc:
                self._fail(UpstreamStreamError(LOST_UPSTREAM), exc)
                continue
            if not more:
                self._fail(StopAsyncIteration() if self._ended else UpstreamStreamError(TRUNCATED))
                continue
            batch = self._normalize(stream.take())
            if batch:
                return batch

    def _normalize(self, raws: list[object]) -> list[Event]:
        """Return the events of the read's raw events; an error line or event ends the turn."""
        batch: list[Event] = []
        normalize = self._normalizer.normalize
        for raw in raws:
            if type(raw) is dict and raw.get("error"):
                message = ErrorLine(raw["error"]).message
                self._fail(UpstreamStreamError(message, "upstream_error", chunk=self._index))
                return batch
            events = normalize(self._index, raw if raw is not _NOT_JSON else None)
            self._index += 1
            batch += events
            for event in events:
                if type(event) in TURN_ENDS:
                    self._ended = True
                    if type(event) is ErrorEvent:  # an error event ends the turn
                        self._fail(StopAsyncIteration())
                        return batch
        return batch

    def _fail(self, then: BaseException, cause: BaseException | None = None) -> None:
        """Make every later read raise `then`, and close the body."""
        then.__cause__ = cause
        self._then = then
        self._stream.response.close()

    async def aclose(self) -> None:
        """Close the body (and so the upstream request)."""
        self._stream.response.close()


class ConversationMetadata:
    """Owners kept in llama-stack's conversation metadata: given at creation, read back here."""

    def __init__(self, client: AsyncLlamaStackClient, timeout: float) -> None:
        self._client = client
        self._timeout = timeout

    async def recorded(self, conversation_id: str) -> Binding | None:
        """Return the conversation's owner from its metadata; None if it has none or is unknown."""
        if not CONVERSATION_ID.fullmatch(conversation_id):
            return None  # the server would refuse it with HTTP 400
        try:
            async with asyncio.timeout(self._timeout):
                conversation = await self._client.conversations.retrieve(conversation_id)
        except NotFoundError:
            return None
        owner = (conversation.metadata or {}).get(OWNER_METADATA_KEY)
        return None if owner is None else Binding(owner)

    async def record(self, conversation_id: str, binding: Binding) -> None:
        """Nothing to do: the owner went into the metadata when the conversation was created."""

    async def forget(self, conversation_id: str) -> None:
        """Nothing to do: the metadata went with the deleted conversation."""


def _input(query: TurnRequest) -> str | list[InputItem]:
    if query.approval_decisions:
        return [item for decision in query.approval_decisions for item in _answered(decision)]
    if query.function_outputs:
        return [
            FunctionOutputInput(
                type="function_call_output", call_id=done.call_id, output=done.output
            )
            for done in query.function_outputs
        ]
    if not query.attachments:
        return query.query
    parts = [InputText(type="input_text", text=query.query)]
    parts += [
        InputText(
            type="input_text",
            text=f"[attachment: {a.attachment_type}, {a.content_type}]\n{a.content}",
        )
        for a in query.attachments
    ]
    return [MessageInput(type="message", role="user", content=parts)]


def _answered(decision: ApprovalDecision) -> list[InputItem]:
    """Return a decision as OGX takes it: a copy of the approval request, then the response."""
    asked = decision.asked
    if asked is None:  # the stream layer fills it in from the approval desk
        raise ValueError(f"approval decision {decision.approval_id} lacks its request")
    request = ApprovalRequestInput(
        type="mcp_approval_request",
        id=asked.approval_id,
        name=asked.name,
        arguments=asked.arguments,
        server_label=asked.server_label,
    )
    response = ApprovalResponseInput(
        type="mcp_approval_response",
        approval_request_id=decision.approval_id,
        approve=decision.approved,
    )
    if decision.reason is not None:
        response["reason"] = decision.reason
    return [request, response]


def _require_approval(server: McpServer) -> ToolOpenAIResponseInputToolMcpRequireApproval:
    """Return the server's `require_approval` as the `mcp` tool takes it."""
    wanted = server.require_approval
    if wanted == "always" or wanted == "never":
        return wanted
    assert not isinstance(wanted, str)
    named = ToolOpenAIResponseInputToolMcpRequireApprovalApprovalFilter()
    if wanted.always is not None:
        named["always"] = list(wanted.always)
    if wanted.never is not None:
        named["never"] = list(wanted.never)
    return named


def _tools(settings: Settings, query: TurnRequest) -> list[Tool]:
    tools: list[Tool] = []
    stores = query.vector_stores(settings.responses_vector_store_ids)
    if stores:
        tools.append(
            ToolOpenAIResponseInputToolFileSearch(type="file_search", vector_store_ids=stores)
        )
    for server in settings.responses_mcp_servers:
        mcp = ToolOpenAIResponseInputToolMcp(
            type="mcp",
            server_label=server.server_label,
            server_url=server.server_url,
            require_approval=_require_approval(server),
        )
        if server.headers:
            mcp["headers"] = dict(server.headers)
        if server.allowed_tools is not None:
            mcp["allowed_tools"] = list(server.allowed_tools)
        tools.append(mcp)
    return tools


def _functions(query: TurnRequest) -> list[Tool]:
    """Return the client's own functions as the turn's function tools."""
    tools: list[Tool] = []
    for function in query.functions:
        tool = ToolOpenAIResponseInputToolFunction(
            type="function", name=function.name, parameters=function.parameters
        )
        if function.description is not None:
            tool["description"] = function.description
        if function.strict is not None:
            tool["strict"] = function.strict
        tools.append(tool)
    return tools


def _function_choice(query: TurnRequest) -> ToolChoice | None:
    """Return the turn's `tool_choice` among the client's functions; None leaves the default."""
    if not query.functions:
        return None
    if query.forced_function is not None:
        return ToolChoiceOpenAIResponseInputToolChoiceFunctionTool(
            type="function", name=query.forced_function
        )
    return query.function_choice


def _is_not_found(exc: ErrorLine) -> bool:
    """Tell whether the server streamed a 404 error in place of its first event."""
    body: Any = exc.body
    return isinstance(body, dict) and str(body.get("code")) == "404"


def _status_reason(exc: APIStatusError) -> str:
    return _status_text(exc.status_code, exc.body, exc.response.text or exc.message)


def _status_text(status: int, body: Any, text: str) -> str:
    """Return the reason for an error status, from the server's error JSON or its text."""
    message = _error_message(body, text or f"Error code: {status}")
    if status == 426:
        return version_refused(message)
    return f"llama-stack answered HTTP {status}: {message}"


def _error_message(body: Any, text: str) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])[:300]
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])[:300]
    return text[:300]


def _json_or_none(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _unreachable(exc: Exception) -> str:
    """Name the root cause (the client wraps aiohttp's error twice), never its address."""
    return f"llama-stack is unreachable: {safe_description(exc)}"
