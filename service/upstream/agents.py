"""Agents turn-stream adapter for llama-stack up to 0.3 (agent + session, then a streamed turn)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import aiohttp
import structlog

from formatters.events import ErrorEvent, Event, HeartbeatEvent
from service.conversations.directory import Binding, ConversationDirectory, OwnerRecords
from service.conversations.owners import ConversationNotFound
from service.observability.exc_text import safe_description
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
from service.upstream.agents_normalizer import normalize_other, text_delta
from service.upstream.batches import EventBatches
from service.upstream.history import session_turn
from service.upstream.json_chunks import exact_chunk, quick_chunk
from service.upstream.sse import EventTooLarge, SSEDecoder
from service.upstream.texts import version_refused
from service.upstream.turn import TurnRequest

log = structlog.get_logger(__name__)

NO_APPROVALS = "The Agents API upstream has no tool approvals, so it cannot take a decision."
SESSION_NAME = "agent-stream-gateway"
"""The name of every session; with auth on it also carries the owner digest (a record only)."""


class UpstreamHTTPError(Exception):
    """llama-stack answered a set-up request with an error status."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status


class AgentsUpstream:
    """Streams turns from llama-stack's Agents API over one shared aiohttp session."""

    name = "agents"
    client_functions = False

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: Settings,
        records: OwnerRecords | None = None,
    ) -> None:
        if not settings.llama_stack_base_url:
            raise ValueError("the agents upstream needs LLAMA_STACK_BASE_URL")
        self._session = session
        self._settings = settings
        self._base = settings.llama_stack_base_url.rstrip("/")
        self._headers = {"Accept": "application/json"}
        if settings.llama_stack_api_key is not None:
            secret = settings.llama_stack_api_key.get_secret_value()
            self._headers["Authorization"] = f"Bearer {secret}"
        self._timeout = aiohttp.ClientTimeout(total=settings.upstream_connect_timeout)
        self._agents: dict[tuple[Any, ...], str] = {}
        self._agent_lock = asyncio.Lock()
        self._directory = ConversationDirectory(records)
        self._default_model: str | None = settings.default_model
        self._readiness = ReadinessCache(settings.readiness_cache_seconds)

    async def start_turn(self, query: TurnRequest, *, owner: str | None = None) -> Turn:
        """Create or reuse the agent and session, then open the streamed turn.

        A session's binding (owner and agent) lives in the records given (the shared store
        with REDIS_URL), else only in this process; the session name names the owner too.
        The Agents API has no tool approvals: a turn carrying decisions is UpstreamUnavailable.
        """
        if query.approval_decisions:
            raise UpstreamUnavailable(NO_APPROVALS)
        with _unavailable_on_failure():
            model = await self._model(query)
            agent_id, session_id = await self._session_for(model, query, owner)
            response = await self._open_turn(agent_id, session_id, query)
        return Turn(conversation_id=session_id, events=EventBatches(self._batches(response)))

    async def models(self) -> list[ModelInfo]:
        """List llama-stack's models (`GET /v1/models`, the Agents-era shape)."""
        with _unavailable_on_failure():
            listed = await self._request("GET", "/v1/models")
            return [
                ModelInfo(
                    id=str(model["identifier"]),
                    model_type=str(model.get("model_type") or "unknown"),
                    provider_id=str(model.get("provider_id") or ""),
                    provider_resource_id=str(model.get("provider_resource_id") or ""),
                    metadata=dict(model.get("metadata") or {}),
                )
                for model in listed.get("data", [])
            ]

    async def history(self, conversation_id: str, owner: str | None) -> list[HistoryTurn]:
        """Return the session's turns: each turn's input messages and its output message."""
        agent_id = await self._bound_agent(conversation_id, owner)
        with _unavailable_on_failure():
            session = await self._session_request("GET", agent_id, conversation_id)
            return [session_turn(turn) for turn in session.get("turns") or []]

    async def delete(self, conversation_id: str, owner: str | None) -> None:
        """Delete the session in llama-stack and forget its binding."""
        agent_id = await self._bound_agent(conversation_id, owner)
        with _unavailable_on_failure():
            await self._session_request("DELETE", agent_id, conversation_id)
        await self._directory.forget(conversation_id, owner)

    async def _bound_agent(self, session_id: str, owner: str | None) -> str:
        """Return the agent of a session made for `owner`, else raise ConversationNotFound."""
        binding = await self._directory.find(session_id, owner)
        if binding is None:
            raise ConversationNotFound()
        return binding.detail

    async def _session_request(self, method: str, agent_id: str, session_id: str) -> dict[str, Any]:
        """Ask for (or delete) one session; a 404 (deleted meanwhile) is ConversationNotFound."""
        try:
            return await self._request(method, f"/v1/agents/{agent_id}/session/{session_id}")
        except UpstreamHTTPError as exc:
            if exc.status == 404:
                raise ConversationNotFound() from exc
            raise

    async def readiness(self) -> Readiness:
        """Ask llama-stack's health endpoint, caching the answer briefly."""
        return await self._readiness.get(self._ask_readiness)

    async def _ask_readiness(self) -> Readiness:
        try:
            await self._request("GET", "/v1/health")
            answer = Readiness(True)
        except UpstreamHTTPError as exc:
            answer = Readiness(False, _http_reason(exc))
        except (aiohttp.ClientError, TimeoutError) as exc:
            answer = Readiness(False, _unreachable(exc), str(exc))
        return answer

    async def _model(self, query: TurnRequest) -> str:
        if (model := requested_model(query)) is not None:
            return model
        if self._default_model is None:
            models = await self._request("GET", "/v1/models")
            llms = [m for m in models.get("data", []) if m.get("model_type") == "llm"]
            if not llms:
                raise UpstreamUnavailable("llama-stack lists no LLM model")
            self._default_model = str(llms[0]["identifier"])
        return self._default_model

    async def _session_for(
        self, model: str, query: TurnRequest, owner: str | None
    ) -> tuple[str, str]:
        if query.conversation_id is not None:
            binding = await self._directory.find(query.conversation_id, owner)
            if binding is not None:
                return binding.detail, query.conversation_id
            if owner is not None:
                raise ConversationNotFound()
            log.warning("unknown conversation_id, starting a new conversation")
        agent_id = await self._agent(model, query)
        name = SESSION_NAME if owner is None else f"{SESSION_NAME} owner:{owner}"
        created = await self._request(
            "POST", f"/v1/agents/{agent_id}/session", {"session_name": name}
        )
        session_id = str(created["session_id"])
        await self._directory.add(session_id, Binding(owner, agent_id))
        return agent_id, session_id

    async def _agent(self, model: str, query: TurnRequest) -> str:
        settings = self._settings
        config: dict[str, Any] = {
            "model": model,
            "instructions": query.system_prompt or settings.agent_instructions,
            "enable_session_persistence": True,
            "input_shields": settings.agent_input_shields,
            "output_shields": settings.agent_output_shields,
            "toolgroups": [] if query.no_tools else _toolgroups(settings, query),
        }
        key = tuple(json.dumps(value, sort_keys=True) for value in config.values())
        async with self._agent_lock:
            if key not in self._agents:
                created = await self._request("POST", "/v1/agents", {"agent_config": config})
                self._agents[key] = str(created["agent_id"])
            return self._agents[key]

    async def _open_turn(
        self, agent_id: str, session_id: str, query: TurnRequest
    ) -> aiohttp.ClientResponse:
        body: dict[str, Any] = {
            "messages": [{"role": "user", "content": query.query}],
            "stream": True,
        }
        if query.attachments:
            body["documents"] = [
                {"content": a.content, "mime_type": a.content_type} for a in query.attachments
            ]
        url = f"{self._base}/v1/agents/{agent_id}/session/{session_id}/turn"
        headers = {**self._headers, "Accept": "text/event-stream"}
        async with asyncio.timeout(self._settings.upstream_connect_timeout):
            response = await self._session.post(url, json=body, headers=headers)
        if response.status != 200:
            text = await response.text(errors="replace")
            response.release()
            raise UpstreamHTTPError(response.status, text)
        return response

    async def _batches(self, response: aiohttp.ClientResponse) -> AsyncGenerator[list[Event], None]:
        """Yield the events of each network read of the turn stream together (never empty).

        A body that ends before the turn did (no `turn_complete`, `turn_awaiting_input` or
        error chunk) raises UpstreamStreamError: the answer was cut short.
        """
        decoder = SSEDecoder()
        index = 0
        ended = False
        try:
            async for data in response.content.iter_any():
                batch: list[Event] = []
                try:
                    for sse in decoder.feed(data):
                        end = add_chunk(batch, index, sse.data)
                        index += 1
                        if end is not None:
                            ended = True
                            if isinstance(end, ErrorEvent):
                                yield batch
                                return  # llama-stack's error chunk ends the turn
                except Exception:
                    if batch:
                        yield batch  # what came before the failure still goes out, in order
                    raise
                if batch:
                    yield batch
        except EventTooLarge as exc:
            raise UpstreamStreamError(TOO_LARGE, "upstream_error") from exc
        except (aiohttp.ClientError, ConnectionError, TimeoutError) as exc:
            raise UpstreamStreamError(LOST_UPSTREAM) from exc
        finally:
            response.close()
        if not ended:
            raise UpstreamStreamError(TRUNCATED)

    async def _request(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        async with self._session.request(
            method, self._base + path, json=body, headers=self._headers, timeout=self._timeout
        ) as response:
            text = await response.text(errors="replace")
            if response.status >= 400:
                raise UpstreamHTTPError(response.status, text)
            try:
                parsed = json.loads(text) if text else {}
            except ValueError:
                raise UpstreamHTTPError(response.status, "answer is not JSON") from None
            return parsed if isinstance(parsed, dict) else {"data": parsed}


def add_chunk(batch: list[Event], index: int, data: str) -> Event | None:
    """Add one SSE event's normalized events to `batch`; return the one ending the turn, if any."""
    quick = quick_chunk(data)
    delta = text_delta(index, quick)  # most chunks: orjson's reading is exact enough for it
    if delta is not None:
        batch.append(delta)
        return None
    try:
        raw = exact_chunk(data, quick)
    except ValueError:
        log.warning("upstream sent a chunk that is not JSON", size=len(data))
        batch.append(HeartbeatEvent(chunk=index))
        return None
    events = normalize_other(index, raw)
    batch += events
    for event in events:
        if type(event) in TURN_ENDS:
            return event
    return None


def _toolgroups(settings: Settings, query: TurnRequest) -> list[str | dict[str, Any]]:
    """Return the agent's tool groups; vector DB ids make the RAG tool search those DBs."""
    groups: list[str | dict[str, Any]] = [
        group for group in settings.agent_toolgroups if not group.startswith("builtin::rag")
    ]
    stores = query.vector_stores(settings.agent_vector_db_ids)
    if stores:
        rag = {"vector_db_ids": stores}
        groups.insert(0, {"name": "builtin::rag/knowledge_search", "args": rag})
    elif len(groups) != len(settings.agent_toolgroups):
        log.warning("builtin::rag needs AGENT_VECTOR_DB_IDS to search anything; left out")
    return groups


@contextlib.contextmanager
def _unavailable_on_failure() -> Iterator[None]:
    """Turn a failed or unexpected llama-stack answer into UpstreamUnavailable."""
    try:
        yield
    except UpstreamHTTPError as exc:
        raise UpstreamUnavailable(_http_reason(exc)) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise UpstreamUnavailable(_unreachable(exc), str(exc)) from exc
    except (KeyError, TypeError) as exc:
        raise UpstreamUnavailable(f"llama-stack gave an unexpected answer: {exc!r}") from exc


def _http_reason(exc: UpstreamHTTPError) -> str:
    if exc.status == 426:
        return version_refused(str(exc))
    return f"llama-stack answered {exc}"


def _unreachable(exc: BaseException) -> str:
    return f"llama-stack is unreachable: {safe_description(exc)}"
