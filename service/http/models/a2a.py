"""A2A 1.0 JSON-RPC wire shapes the gateway reads and answers (`a2a-sdk`'s proto JSON names).

Requests keep A2A's forward compatibility: unknown fields are ignored, as `a2a-sdk`'s own
server ignores them. Only what a turn needs is modelled; answers are built as plain JSON by
`formatters.a2a` and checked against `a2a-sdk`'s protobuf types in the test suite.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from service.http.models.query import NonBlank
from service.http.request_body import validation_cause
from service.upstream.turn import ApprovalDecision

PROTOCOL_VERSION = "1.0"
"""The A2A version this endpoint speaks (`A2A-Version` header, the card's interface)."""

RpcId = StrictStr | StrictInt | None


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Part(_Lenient):
    """One part of a message: exactly one of text, raw bytes, a URL or data."""

    text: StrictStr | None = None
    raw: StrictStr | None = None
    url: StrictStr | None = None
    data: Any = None
    metadata: dict[str, Any] | None = None
    filename: StrictStr | None = None
    media_type: StrictStr | None = Field(default=None, alias="mediaType")

    @model_validator(mode="after")
    def _one_content(self) -> Part:
        kinds = [name for name in ("text", "raw", "url", "data") if getattr(self, name) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a part holds exactly one of text, raw, url, data (not {kinds})")
        return self

    @property
    def kind(self) -> str:
        """Which content the part holds: text, raw, url or data."""
        return next(
            name for name in ("text", "raw", "url", "data") if getattr(self, name) is not None
        )


class Message(_Lenient):
    """A message from the client (`ROLE_USER`) to the agent."""

    message_id: NonBlank = Field(alias="messageId")
    context_id: StrictStr = Field(default="", alias="contextId")
    task_id: StrictStr = Field(default="", alias="taskId")
    role: Literal["ROLE_USER", "ROLE_AGENT"]
    parts: list[Part] = Field(min_length=1)
    metadata: dict[str, Any] | None = None


class ApprovalReply(BaseModel):
    """A data part of a reply to an input-required task: the decision on one approval request."""

    model_config = ConfigDict(extra="forbid", strict=True)

    approval_id: NonBlank
    approved: bool
    reason: StrictStr | None = None


APPROVAL_REPLY = (
    'reply to an input-required task with a data part {"approval_id": ..., "approved": '
    'true|false, "reason": ...} for each approvalRequest it asked'
)
"""How a client answers the approvals an input-required task asks (the agent card says so)."""


def approval_decisions(parts: list[Part]) -> list[ApprovalDecision]:
    """Return the decisions a reply's data parts hold (its text parts are notes for people).

    Raise ValueError (its message the cause) for a data part that is no decision.
    """
    decisions = []
    for position, part in enumerate(parts):
        if part.kind != "data":
            continue
        try:
            reply = ApprovalReply.model_validate(part.data)
        except ValidationError as exc:
            cause = validation_cause(exc)
            raise ValueError(f"message.parts[{position}].data: {cause}; {APPROVAL_REPLY}") from None
        decisions.append(ApprovalDecision(reply.approval_id, reply.approved, reply.reason))
    return decisions


class SendMessageConfiguration(_Lenient):
    """How the client wants the answer (only what the gateway honours or must refuse)."""

    accepted_output_modes: list[StrictStr] = Field(
        default_factory=list, alias="acceptedOutputModes"
    )
    history_length: Annotated[int, Field(ge=0)] | None = Field(default=None, alias="historyLength")
    return_immediately: bool = Field(default=False, alias="returnImmediately")


class SendMessageRequest(_Lenient):
    """`SendMessage` / `SendStreamingMessage` params."""

    tenant: StrictStr = ""
    message: Message
    configuration: SendMessageConfiguration | None = None
    metadata: dict[str, Any] | None = None


class TaskRequest(_Lenient):
    """`GetTask`, `SubscribeToTask` and `CancelTask` params: the task's id."""

    tenant: StrictStr = ""
    id: NonBlank
    history_length: Annotated[int, Field(ge=0)] | None = Field(default=None, alias="historyLength")


class JsonRpcRequest(BaseModel):
    """A JSON-RPC 2.0 request to the A2A endpoint (its params depend on the method)."""

    model_config = ConfigDict(extra="ignore")

    jsonrpc: Literal["2.0"]
    id: RpcId = None
    method: StrictStr
    params: dict[str, Any] = Field(default_factory=dict)


class JsonRpcError(BaseModel):
    """A JSON-RPC error object: A2A's code, a message, `google.rpc.ErrorInfo` details."""

    code: int
    message: str
    data: list[dict[str, Any]] | None = None


class JsonRpcErrorResponse(BaseModel):
    """A JSON-RPC 2.0 error response (A2A sends it with HTTP 200)."""

    jsonrpc: Literal["2.0"] = "2.0"
    id: RpcId
    error: JsonRpcError


class JsonRpcResult(BaseModel):
    """A JSON-RPC 2.0 result: a `Task` (SendMessage's `{"task": ...}`, GetTask, CancelTask)."""

    jsonrpc: Literal["2.0"] = "2.0"
    id: RpcId
    result: dict[str, Any]


class _Card(BaseModel):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)


class AgentInterface(_Card):
    """Where and how the agent is reached."""

    url: str
    protocol_binding: str = Field(alias="protocolBinding")
    protocol_version: str = Field(alias="protocolVersion")


class AgentCapabilities(_Card):
    """What the agent supports beyond a plain request."""

    streaming: bool
    push_notifications: bool = Field(alias="pushNotifications")


class AgentSkill(_Card):
    """One skill the agent advertises."""

    id: str
    name: str
    description: str
    tags: list[str]


class AgentCard(_Card):
    """The agent card served at `/.well-known/agent-card.json`."""

    name: str
    description: str
    version: str
    supported_interfaces: list[AgentInterface] = Field(alias="supportedInterfaces")
    capabilities: AgentCapabilities
    default_input_modes: list[str] = Field(alias="defaultInputModes")
    default_output_modes: list[str] = Field(alias="defaultOutputModes")
    skills: list[AgentSkill]
    security_schemes: dict[str, dict[str, Any]] | None = Field(
        default=None, alias="securitySchemes"
    )
    security_requirements: list[dict[str, Any]] | None = Field(
        default=None, alias="securityRequirements"
    )
