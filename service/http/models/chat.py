"""The body of `POST /v1/chat/completions` (OpenAI's), and the agent query it becomes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from formatters.call_ids import parse_client_call_id
from service.http.models.query import NonBlank
from service.upstream.turn import ClientFunction, FunctionOutput, TurnRequest

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
        default=None,
        description="Accepted on assistant messages: the calls the service's conversation holds.",
    )
    tool_call_id: str | None = None
    function_call: dict[str, Any] | None = None
    audio: dict[str, Any] | None = None
    reasoning_content: str | None = Field(
        default=None,
        description="Accepted and ignored: the reasoning of an answer this service gave.",
    )


class StreamOptions(BaseModel):
    """`stream_options`: only `include_usage` changes anything."""

    model_config = ConfigDict(extra="forbid", strict=True)

    include_usage: bool = False
    include_obfuscation: bool | None = None


class ChatFunction(BaseModel):
    """The function of a `tools` entry: what the model may call, the client then runs."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: NonBlank
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ChatTool(BaseModel):
    """One entry of `tools`: a function of the client's own."""

    model_config = ConfigDict(extra="forbid", strict=True)

    type: Literal["function"]
    function: ChatFunction


class FunctionName(BaseModel):
    """The function a named `tool_choice` forces."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: NonBlank


class NamedToolChoice(BaseModel):
    """`tool_choice` naming the one function the model must call."""

    model_config = ConfigDict(extra="forbid", strict=True)

    type: Literal["function"]
    function: FunctionName


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
    tools: list[ChatTool] | None = Field(
        default=None,
        description=(
            "The client's own functions: offered to the model next to the agent's tools; a call "
            "of one ends the answer with `tool_calls`, and `tool` messages answer it."
        ),
    )
    tool_choice: Literal["auto", "none", "required"] | NamedToolChoice | None = None
    service_tier: str | None = None
    reasoning_effort: str | None = None
    verbosity: str | None = None
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None
    # Refused unless absent or left at what an agent turn does anyway (see `refusals`).
    n: int | None = None
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

    @property
    def client_tools(self) -> frozenset[str]:
        """The names of the client's own functions (`tools`)."""
        return frozenset(tool.function.name for tool in self.tools or ())

    def refusals(self) -> list[str]:
        """Return why each field set to something an agent turn cannot do is refused."""
        names = [tool.function.name for tool in self.tools or ()]
        forced = (
            self.tool_choice.function.name
            if self.tool_choice is not None and not isinstance(self.tool_choice, str)
            else None
        )
        checks = [
            (self.n not in (None, 1), "n: only one choice (n=1) is supported"),
            (len(set(names)) != len(names), "tools: two tools have the same name"),
            (
                bool(self.functions) or self.function_call is not None,
                "functions, function_call: the legacy fields are not supported; send tools",
            ),
            (
                not names and self.tool_choice not in (None, "auto", "none"),
                "tool_choice: a choice other than 'auto' or 'none' needs tools",
            ),
            (
                bool(names) and forced is not None and forced not in names,
                f"tool_choice: no function named {forced!r} in tools",
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

    def to_turn(self) -> TurnRequest:
        """Return the agent turn for this conversation, or raise UnsupportedRequest.

        Trailing `tool` messages answer the client tool calls a turn paused for: the query goes
        on with their outputs in that turn's conversation, named by their `tool_call_id`.
        """
        refusals = self.refusals()
        if refusals:
            raise UnsupportedRequest("; ".join(refusals))
        outputs_from = len(self.messages)
        while outputs_from and self.messages[outputs_from - 1].role == "tool":
            outputs_from -= 1
        instructions: list[str] = []
        turns: list[tuple[str, str]] = []
        for position, message in enumerate(self.messages[:outputs_from]):
            where = f"messages[{position}]"
            if message.role == "function":
                raise UnsupportedRequest(
                    f"{where}: 'function' messages (the legacy form) are not supported; send "
                    "'tool' messages"
                )
            text = _text(message, where)
            if message.role in _INSTRUCTION_ROLES:
                instructions.append(text)
            else:
                turns.append((message.role, text))
        system_prompt = "\n\n".join(instructions) or None
        if outputs_from < len(self.messages):
            return self._continued(outputs_from, system_prompt)
        question = question_of(turns, continuing=self.conversation_id is not None)
        return TurnRequest(
            query=question,
            conversation_id=self.conversation_id,
            model=self.model,
            system_prompt=system_prompt,
            **self._functions(),
        )

    def _continued(self, first: int, system_prompt: str | None) -> TurnRequest:
        """Return the turn that gives the paused turn the outputs of messages[first:]."""
        conversations: set[str] = set()
        outputs = []
        for position in range(first, len(self.messages)):
            message, where = self.messages[position], f"messages[{position}]"
            parsed = parse_client_call_id(message.tool_call_id or "")
            if parsed is None:
                raise UnsupportedRequest(
                    f"{where}.tool_call_id: {message.tool_call_id!r} is not the id of a tool call "
                    "this service made"
                )
            conversations.add(parsed[0])
            outputs.append(FunctionOutput(call_id=parsed[1], output=_text(message, where)))
        if len(conversations) > 1 or (
            self.conversation_id is not None and conversations != {self.conversation_id}
        ):
            raise UnsupportedRequest(
                "messages: the tool messages answer tool calls of different conversations"
            )
        return TurnRequest(
            query="",
            conversation_id=conversations.pop(),
            model=self.model,
            system_prompt=system_prompt,
            function_outputs=tuple(outputs),
            **self._functions(),
        )

    def _functions(self) -> dict[str, Any]:
        """Return the client's functions and the choice among them, as TurnRequest fields."""
        choice = self.tool_choice or "auto"
        return {
            "functions": tuple(
                ClientFunction(**tool.function.model_dump()) for tool in self.tools or ()
            ),
            "function_choice": choice if isinstance(choice, str) else "required",
            "forced_function": None if isinstance(choice, str) else choice.function.name,
        }


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
