"""Responses API adapter for llama-stack 0.4+: streams `POST /v1/responses` (llama-stack-client)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
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
from service.exc_text import root_cause, safe_description
from service.request_models import QueryRequest
from service.settings import Settings
from service.upstream import (
    LOST_UPSTREAM,
    Readiness,
    ReadinessCache,
    Turn,
    UpstreamStreamError,
    UpstreamUnavailable,
    requested_model,
)
from service.upstream.responses_normalizer import ResponsesNormalizer

log = structlog.get_logger(__name__)

UPSTREAM_FAILED = "The agent reported an error without a message."

CONVERSATION_ID = re.compile(r"conv_[0-9a-f]{48}")
"""llama-stack's conversation id format; the server refuses any other with HTTP 400."""

Stream = AsyncStream[ResponseObjectStream]


class ResponsesUpstream:
    """Streams turns from llama-stack's Responses API, one llama-stack conversation per chat.

    The `start` frame's conversation id is the llama-stack conversation (`conv_...`) the turn
    was added to; a client sends it back to continue. Set-up errors, including an error the
    server streams before its first event, become `UpstreamUnavailable` (HTTP 503).
    """

    name = "responses"

    def __init__(self, settings: Settings) -> None:
        if not settings.llama_stack_base_url:
            raise ValueError("the responses upstream needs LLAMA_STACK_BASE_URL")
        self._settings = settings
        self._setup_timeout = settings.upstream_connect_timeout
        timeout = httpx.Timeout(self._setup_timeout, read=None)
        api_key = settings.llama_stack_api_key
        self._client = AsyncLlamaStackClient(
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

    async def start_turn(self, query: QueryRequest) -> Turn:
        """Pick the model and conversation, open the stream and read its first event."""
        try:
            model = await self._model(query)
            conversation = await self._conversation(query)
            try:
                stream, first = await self._open(query, model, conversation)
            except APIError as exc:
                if not (query.conversation_id and _is_not_found(exc)):
                    raise
                log.warning("unknown conversation_id, starting a new conversation")
                conversation = await self._new_conversation()
                stream, first = await self._open(query, model, conversation)
        except APIStatusError as exc:
            raise UpstreamUnavailable(_status_reason(exc)) from exc
        except (APIConnectionError, httpx.TransportError) as exc:
            raise UpstreamUnavailable(_unreachable(exc), str(root_cause(exc))) from exc
        except APIError as exc:
            raise UpstreamUnavailable(f"llama-stack refused the turn: {exc.message}") from exc
        except TimeoutError as exc:
            raise UpstreamUnavailable(
                f"llama-stack did not answer within {self._setup_timeout:g} s"
            ) from exc
        return Turn(conversation_id=conversation, events=self._events(stream, first))

    async def readiness(self) -> Readiness:
        """List llama-stack's models (which also proves the client version fits), cached briefly."""
        return await self._readiness.get(self._ask_readiness)

    async def _ask_readiness(self) -> Readiness:
        try:
            model = await self._listed_default_model()
            answer = (
                Readiness(True) if model else Readiness(False, "llama-stack lists no LLM model")
            )
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

    async def _conversation(self, query: QueryRequest) -> str:
        if query.conversation_id is not None:
            if CONVERSATION_ID.fullmatch(query.conversation_id):
                return query.conversation_id
            log.warning("conversation_id is not a llama-stack conversation, starting a new one")
        return await self._new_conversation()

    async def _new_conversation(self) -> str:
        async with asyncio.timeout(self._setup_timeout):
            conversation = await self._client.conversations.create()
        return conversation.id

    async def _open(
        self, query: QueryRequest, model: str, conversation: str
    ) -> tuple[Stream, dict[str, object]]:
        settings = self._settings
        tools = [] if query.no_tools else _tools(settings)
        async with asyncio.timeout(self._setup_timeout):
            stream = await self._client.responses.create(
                input=_input(query),
                model=model,
                conversation=conversation,
                instructions=query.system_prompt or settings.agent_instructions or omit,
                tools=tools or omit,
                guardrails=list(settings.responses_guardrails) or omit,
                stream=True,
            )
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
        normalizer = ResponsesNormalizer()
        try:
            for event in normalizer.normalize(0, first):
                yield event
            index = 1
            async for item in stream:
                for event in normalizer.normalize(index, item.to_dict()):
                    yield event
                index += 1
        except (APIConnectionError, httpx.TransportError, TimeoutError) as exc:
            raise UpstreamStreamError(LOST_UPSTREAM) from exc
        except APIError as exc:
            raise UpstreamStreamError(exc.message or UPSTREAM_FAILED, "upstream_error") from exc
        finally:
            await stream.close()


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


def _tools(settings: Settings) -> list[Tool]:
    tools: list[Tool] = []
    if settings.responses_vector_store_ids:
        tools.append(
            ToolOpenAIResponseInputToolFileSearch(
                type="file_search", vector_store_ids=list(settings.responses_vector_store_ids)
            )
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
