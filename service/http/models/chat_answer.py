"""The non-streamed answer of `POST /v1/chat/completions`: OpenAI's `chat.completion`, checked."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CalledFunction(_Shape):
    """The function a tool call named, and its arguments as JSON text."""

    name: str
    arguments: str


class CompletionToolCall(_Shape):
    """One tool call the agent made (for information: the agent ran it)."""

    id: str
    type: Literal["function"]
    function: CalledFunction


class CompletionMessage(_Shape):
    """The assistant's message: the answer text, and `tool_calls` when the agent made some."""

    role: Literal["assistant"]
    content: str | None
    refusal: None
    reasoning_content: str | None = None
    """The model's reasoning, where DeepSeek, vLLM and LiteLLM put it (only when it reasoned)."""
    tool_calls: list[CompletionToolCall] = []


class CompletionChoice(_Shape):
    """The one choice of the answer."""

    index: int
    message: CompletionMessage
    logprobs: None
    finish_reason: str | None


class CompletionUsage(_Shape):
    """The turn's token counts."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(_Shape):
    """OpenAI's `chat.completion`, plus `gateway_events` (every `gateway_event`, in order)."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: CompletionUsage | None
    gateway_events: list[dict[str, Any]]
