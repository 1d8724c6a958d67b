"""The body of `POST /v1/chat/completions` (OpenAI's), and the agent query it becomes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.request_models import NonBlank, QueryRequest

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]
_INSTRUCTION_ROLES = ("system", "developer")


class UnsupportedRequest(ValueError):
    """The request asks for something an agent turn cannot do; `cause` says what, for the client."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


class ChatMessage(BaseModel):
    """One message of the conversation, as OpenAI's chat completions take it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    refusal: str | None = None
    tool_calls: list[dict[str, Any]] | None = Field(
        default=None, description="Accepted on assistant messages and ignored: the agent ran them."
    )
    tool_call_id: str | None = None
    function_call: dict[str, Any] | None = None
    audio: dict[str, Any] | None = None


class StreamOptions(BaseModel):
    """`stream_options`: only `include_usage` changes anything."""

    model_config = ConfigDict(extra="forbid", strict=True)

    include_usage: bool = False
    include_obfuscation: bool | None = None


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat completion request; sampling and bookkeeping fields are accepted, not used."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: NonBlank = Field(
        description="Echoed in the answer and passed to the agent as its model."
    )
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    conversation_id: NonBlank | None = Field(
        default=None,
        description=(
            "Extension: continue this agent conversation (the `conversation_id` of the `start` "
            "gateway_event); then only the last message is sent to the agent."
        ),
    )
    # Accepted and ignored: the agent's configuration decides these.
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    stop: str | list[str] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logit_bias: dict[str, float] | None = None
    seed: int | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    parallel_tool_calls: bool | None = None
    service_tier: str | None = None
    reasoning_effort: str | None = None
    verbosity: str | None = None
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None
    # Refused unless absent or left at what an agent turn does anyway (see `refusals`).
    n: int | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    functions: list[dict[str, Any]] | None = None
    function_call: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    modalities: list[str] | None = None
    audio: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None

    @property
    def include_usage(self) -> bool:
        """Whether the stream should end with a usage chunk."""
        return self.stream_options is not None and self.stream_options.include_usage

    def refusals(self) -> list[str]:
        """Return why each field set to something an agent turn cannot do is refused."""
        agent_tools = "the agent's tools are configured on the service (AGENT_TOOLGROUPS)"
        checks = [
            (self.n not in (None, 1), "n: only one choice (n=1) is supported"),
            (bool(self.tools), f"tools: client-defined tools are not supported; {agent_tools}"),
            (bool(self.functions), f"functions: not supported; {agent_tools}"),
            (
                self.tool_choice not in (None, "auto", "none"),
                f"tool_choice: only 'auto' or 'none' is supported; {agent_tools}",
            ),
            (
                self.function_call not in (None, "auto", "none"),
                "function_call: only 'auto' or 'none' is supported",
            ),
            (
                self.response_format not in (None, {"type": "text"}),
                "response_format: only {'type': 'text'} is supported",
            ),
            (bool(self.logprobs), "logprobs: not supported"),
            (self.top_logprobs is not None, "top_logprobs: not supported"),
            (self.modalities not in (None, ["text"]), "modalities: only ['text'] is supported"),
            (self.audio is not None, "audio: audio output is not supported"),
            (self.prediction is not None, "prediction: predicted outputs are not supported"),
            (self.web_search_options is not None, "web_search_options: not supported"),
            (
                self.stream_options is not None and not self.stream,
                "stream_options: only allowed when stream is true",
            ),
        ]
        return [cause for refused, cause in checks if refused]

    def to_query(self) -> QueryRequest:
        """Return the agent query for this conversation, or raise UnsupportedRequest."""
        refusals = self.refusals()
        if refusals:
            raise UnsupportedRequest("; ".join(refusals))
        instructions: list[str] = []
        turns: list[tuple[str, str]] = []
        for position, message in enumerate(self.messages):
            where = f"messages[{position}]"
            if message.role in ("tool", "function"):
                raise UnsupportedRequest(
                    f"{where}: '{message.role}' messages are not supported: the agent runs its own "
                    "tools, and the tool calls in its answers are for information only"
                )
            text = _text(message, where)
            if message.role in _INSTRUCTION_ROLES:
                instructions.append(text)
            else:
                turns.append((message.role, text))
        return QueryRequest(
            query=question_of(turns, continuing=self.conversation_id is not None),
            conversation_id=self.conversation_id,
            model=self.model,
            system_prompt="\n\n".join(instructions) or None,
        )


def question_of(turns: Sequence[tuple[str, str]], *, continuing: bool) -> str:
    """Return the question of a conversation's last turn, with its history unless continuing.

    A client that does not continue an agent conversation sends the whole history each time;
    then the agent gets it as `role: text` paragraphs, the last one the question. Raise
    UnsupportedRequest if the last turn is not a user's with text.
    """
    if not turns or turns[-1][0] != "user":
        raise UnsupportedRequest("messages: the last message must be a user message")
    if not turns[-1][1].strip():
        raise UnsupportedRequest("messages: the last user message has no text")
    history = [] if continuing else [turn for turn in turns[:-1] if turn[1]]
    if not history:
        return turns[-1][1]
    return "\n\n".join(f"{role}: {text}" for role, text in [*history, turns[-1]])


def _text(message: ChatMessage, where: str) -> str:
    content = message.content
    if content is None:
        return message.refusal or ""
    if isinstance(content, str):
        return content
    texts = []
    for index, part in enumerate(content):
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif (
            kind == "refusal"
            and message.role == "assistant"
            and isinstance(part.get("refusal"), str)
        ):
            texts.append(part["refusal"])
        else:
            raise UnsupportedRequest(
                f"{where}.content[{index}]: content parts of type {kind!r} are not supported; "
                "send text"
            )
    return "\n".join(texts)
