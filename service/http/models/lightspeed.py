"""The JSON shapes of lightspeed-stack 0.7.1's models, query and conversation answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenAIModel(_Shape):
    """One entry of OpenAI's model list (`GET /v1/models` in the OpenAI SDKs)."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class CatalogModel(_Shape):
    """One entry of lightspeed-stack 0.7.1's `ModelsResponse.models`."""

    identifier: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    api_model_type: str
    provider_id: str
    type: Literal["model"] = "model"
    provider_resource_id: str
    model_type: str


class ModelList(_Shape):
    """Both lists in one answer: OpenAI's `object`/`data` and lightspeed-stack's `models`."""

    object: Literal["list"] = "list"
    data: list[OpenAIModel]
    models: list[CatalogModel]


class ReferencedDocument(_Shape):
    """A document the answer used, as lightspeed-stack 0.7.1 lists it."""

    doc_url: str | None
    doc_title: str | None
    source: str | None = None
    document_id: str | None = None


class ToolCallSummary(_Shape):
    """A tool call the agent made."""

    id: str
    name: str
    args: dict[str, Any]
    type: Literal["tool_call"] = "tool_call"


class ToolResultSummary(_Shape):
    """A tool call's result; `round` counts the agent's tool rounds from 1."""

    id: str
    status: Literal["success", "failure"]
    content: str
    type: Literal["tool_result"] = "tool_result"
    round: int


class QueryAnswer(_Shape):
    """lightspeed-stack 0.7.1's `QueryResponse`: the answer of `POST /v1/query`."""

    conversation_id: str | None
    response: str
    rag_chunks: list[dict[str, Any]] = Field(default_factory=list)
    referenced_documents: list[ReferencedDocument] = Field(default_factory=list)
    truncated: bool = False
    context_status: Literal["full", "summarized"] = "full"
    input_tokens: int = 0
    output_tokens: int = 0
    available_quotas: dict[str, int] = Field(default_factory=dict)
    tool_calls: list[ToolCallSummary] = Field(default_factory=list)
    tool_results: list[ToolResultSummary] = Field(default_factory=list)


class HistoryMessage(_Shape):
    """One message of a conversation's history."""

    content: str
    type: Literal["user", "assistant"]
    referenced_documents: list[ReferencedDocument] | None = None


class ConversationTurn(_Shape):
    """One turn of a conversation's history (tools are not listed: the upstreams do not say)."""

    messages: list[HistoryMessage]
    tool_calls: list[ToolCallSummary] = Field(default_factory=list)
    tool_results: list[ToolResultSummary] = Field(default_factory=list)
    provider: str
    model: str
    started_at: str
    completed_at: str


class ConversationAnswer(_Shape):
    """lightspeed-stack 0.7.1's `ConversationResponse`: `GET /v1/conversations/{id}`."""

    conversation_id: str
    chat_history: list[ConversationTurn]


class ConversationDeleted(_Shape):
    """lightspeed-stack 0.7.1's `ConversationDeleteResponse`: `DELETE /v1/conversations/{id}`."""

    deleted: Literal[True] = True
    conversation_id: str
    response: Literal["Conversation deleted successfully"] = "Conversation deleted successfully"
    success: Literal[True] = True
