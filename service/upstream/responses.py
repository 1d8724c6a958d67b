"""Responses API adapter for llama-stack 0.4+ and OGX 1.x: streams `POST /v1/responses`."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Any, Self

import httpx
import structlog
from llama_stack_client import (
    APIConnectionError,
    APIError,
    APIStatusError,
    AsyncLlamaStackClient,
    DefaultAioHttpClient,
    NotFoundError,
    omit,
)
from llama_stack_client._streaming import AsyncStream
from llama_stack_client.types import ResponseObjectStream
from llama_stack_client.types.response_create_params import (
    InputListOpenAIResponseMessageUnionOpenAIResponseInputFunctionToolCallOutputOpenAIResponseMcpApprovalResponseOpenAIResponseMessageInput as MessageInput,  # noqa: E501
)
from llama_stack_client.types.response_create_params import (
    InputListOpenAIResponseMessageUnionOpenAIResponseInputFunctionToolCallOutputOpenAIResponseMcpApprovalResponseOpenAIResponseMessageInputContentListOpenAIResponseInputMessageContentTextOpenAIResponseInputMessageContentImageOpenAIResponseInputMessageContentFileOpenAIResponseInputMessageContentText as InputText,  # noqa: E501
)
from llama_stack_client.types.response_create_params import (
    Tool,
    ToolOpenAIResponseInputToolFileSearch,
    ToolOpenAIResponseInputToolMcp,
)

from formatters.events import Event
from service.conversations.directory import Binding, ConversationDirectory
from service.conversations.owners import ConversationNotFound
from service.exc_text import root_cause, safe_description
from service.request_models import QueryRequest
from service.settings import Settings
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
from service.upstream.history import history_turns
from service.upstream.responses_normalizer import ResponsesNormalizer
from service.upstream.responses_sse import CappedClient
from service.upstream.server_profile import ServerProfile, missing_moderation_endpoint, profile_of
from service.upstream.sse import EventTooLarge

log = structlog.get_logger(__name__)

UPSTREAM_FAILED = "The agent reported an error without a message."

CONVERSATION_ID = re.compile(r"conv_[0-9a-f]{48}")
"""llama-stack's conversation id format; the server refuses any other with HTTP 400."""

OWNER_METADATA_KEY = "agent_stream_gateway_owner"
"""The conversation metadata key that holds the owner digest of a conversation made with auth on."""

Stream = AsyncStream[ResponseObjectStream]


class ResponsesUpstream:
    """Streams turns from llama-stack's Responses API, one llama-stack conversation per chat.

    The `start` frame's conversation id is the llama-stack conversation (`conv_...`) the turn
    was added to; a client sends it back to continue. Set-up errors, including an error the
    server streams before its first event, become `UpstreamUnavailable` (HTTP 503). With auth
    on, each conversation's owner digest is in its llama-stack metadata, which every replica
    reads (once per process and owner) before continuing it.
    """

    name = "responses"

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
            # each open stream holds a connection: the pool must not cap below the stream limit
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
        """Close the client and its connections."""
        await self._client.close()

    async def start_turn(self, query: QueryRequest, *, owner: str | None = None) -> Turn:
        """Pick the model and conversation, open the stream and read its first event."""
        with self._unavailable_on_failure():
            await self._usable_server()
            model = await self._model(query)
            conversation = await self._conversation(query, owner)
            try:
                stream, first = await self._open(query, model, conversation)
            except APIError as exc:
                if not (query.conversation_id and _is_not_found(exc)):
                    raise
                if owner is not None:
                    raise ConversationNotFound() from exc  # deleted since it was checked
                log.warning("unknown conversation_id, starting a new conversation")
                conversation = await self._new_conversation(None)
                stream, first = await self._open(query, model, conversation)
        return Turn(conversation_id=conversation, events=self._events(stream, first))

    @contextlib.contextmanager
    def _unavailable_on_failure(self) -> Iterator[None]:
        """Turn the client's failures (status, connection, time-out) into UpstreamUnavailable."""
        try:
            yield
        except APIStatusError as exc:
            raise UpstreamUnavailable(_status_reason(exc)) from exc
        except (APIConnectionError, httpx.TransportError) as exc:
            raise UpstreamUnavailable(_unreachable(exc), str(root_cause(exc))) from exc
        except APIError as exc:
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

    async def _model(self, query: QueryRequest) -> str:
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

    async def _conversation(self, query: QueryRequest, owner: str | None) -> str:
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
        metadata = {OWNER_METADATA_KEY: owner} if owner is not None else omit
        async with asyncio.timeout(self._setup_timeout):
            conversation = await self._client.conversations.create(metadata=metadata)
        if owner is not None:
            await self._directory.add(conversation.id, Binding(owner))
        return conversation.id

    async def _open(
        self, query: QueryRequest, model: str, conversation: str
    ) -> tuple[Stream, dict[str, object]]:
        settings = self._settings
        tools = [] if query.no_tools else _tools(settings, query)
        profile = await self._usable_server()
        guardrails = profile.guardrails(settings)
        async with asyncio.timeout(self._setup_timeout):
            try:
                stream = await self._client.responses.create(
                    input=_input(query),
                    model=model,
                    conversation=conversation,
                    instructions=query.system_prompt or settings.agent_instructions or omit,
                    tools=tools or omit,
                    # llama-stack-client types `guardrails` as a list of shields; OGX's is a bool
                    extra_body={"guardrails": guardrails} if guardrails is not None else None,
                    extra_headers=profile.headers(),
                    stream=True,
                )
            except APIStatusError as exc:
                if exc.status_code == 426:
                    self._profile = None  # the server changed version: ask it again next time
                raise
            try:
                first = await anext(stream)
            except StopAsyncIteration:
                await stream.close()
                raise UpstreamUnavailable(
                    "llama-stack ended the stream before its first event"
                ) from None
            except BaseException:
                await stream.close()
                raise
        return stream, first.to_dict()

    async def _events(self, stream: Stream, first: dict[str, object]) -> AsyncIterator[Event]:
        """Yield the turn's events; a stream that ends before the turn did is cut short."""
        normalizer = ResponsesNormalizer()
        ended = False
        index = 0
        try:
            for event in normalizer.normalize(0, first):
                ended = ended or type(event) in TURN_ENDS
                yield event
            index = 1
            async for item in stream:
                for event in normalizer.normalize(index, item.to_dict()):
                    ended = ended or type(event) in TURN_ENDS
                    yield event
                index += 1
        except (APIConnectionError, httpx.TransportError, TimeoutError) as exc:
            raise UpstreamStreamError(LOST_UPSTREAM) from exc
        except APIError as exc:
            # the client raises an upstream `error` line as APIError: that chunk is the error
            message = exc.message or UPSTREAM_FAILED
            raise UpstreamStreamError(message, "upstream_error", chunk=index) from exc
        except EventTooLarge as exc:
            raise UpstreamStreamError(TOO_LARGE, "upstream_error") from exc
        finally:
            await stream.close()
        if not ended:
            raise UpstreamStreamError(TRUNCATED)


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


def _input(query: QueryRequest) -> str | list[MessageInput]:
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


def _tools(settings: Settings, query: QueryRequest) -> list[Tool]:
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
            require_approval="never",
        )
        if server.headers:
            mcp["headers"] = dict(server.headers)
        if server.allowed_tools is not None:
            mcp["allowed_tools"] = list(server.allowed_tools)
        tools.append(mcp)
    return tools


def _is_not_found(exc: APIError) -> bool:
    """Tell whether the server streamed a 404 error in place of its first event."""
    body: Any = exc.body
    return (
        not isinstance(exc, APIStatusError | APIConnectionError)
        and isinstance(body, dict)
        and str(body.get("code")) == "404"
    )


def _status_reason(exc: APIStatusError) -> str:
    message = _error_message(exc)
    if exc.status_code == 426:
        return (
            "llama-stack refused this client's version (HTTP 426): the client's major.minor "
            f"must match the server's. {message}"
        )
    return f"llama-stack answered HTTP {exc.status_code}: {message}"


def _error_message(exc: APIStatusError) -> str:
    body: Any = exc.body
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])[:300]
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])[:300]
    return exc.response.text[:300] if exc.response.text else exc.message


def _unreachable(exc: Exception) -> str:
    """Name the root cause (the client wraps aiohttp's error twice), never its address."""
    return f"llama-stack is unreachable: {safe_description(exc)}"
