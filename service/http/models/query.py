"""Request bodies the service accepts, validated with pydantic."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails

from service.upstream.turn import ApprovalDecision, TurnRequest
from service.upstream.turn import Attachment as TurnAttachment

NonBlank = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, pattern=r"\S")]
IGNORED = "Accepted for lightspeed-stack compatibility; ignored."


class Attachment(BaseModel):
    """A document sent along with the query (lightspeed-stack's Attachment)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    attachment_type: str = Field(examples=["log"])
    content_type: str = Field(examples=["text/plain"])
    content: str


class SolrOptions(BaseModel):
    """lightspeed-stack 0.7.1's inline Solr RAG options (`mode`, `filters`); ignored here."""

    model_config = ConfigDict(extra="forbid", strict=True)

    mode: Literal["semantic", "hybrid", "lexical", "keyword"] | None = None
    filters: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _legacy_filters(cls, data: Any) -> Any:
        """Take a legacy filter-only object (e.g. `{"fq": [...]}`) as `filters`, as 0.7.1 does."""
        if isinstance(data, dict) and data and not {"mode", "filters"} & data.keys():
            return {"filters": data}
        return data


class ToolApproval(BaseModel):
    """A decision on one tool approval request (the `approval_request` event's id)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    approval_id: NonBlank = Field(description="The approval request's id.")
    approved: bool = Field(description="true: run the tool; false: do not.")
    reason: str | None = Field(default=None, description="Why, in words for the agent.")

    def to_decision(self) -> ApprovalDecision:
        """Return the decision as the turn request carries it (the service fills in `asked`)."""
        return ApprovalDecision(
            approval_id=self.approval_id, approved=self.approved, reason=self.reason
        )


def _string_only(schema: dict[str, Any]) -> None:
    """Document `query` as the string it is when given (never null)."""
    (string,) = [option for option in schema.pop("anyOf") if option.get("type") == "string"]
    schema.update(string)
    schema.pop("default", None)


class QueryRequest(BaseModel):
    """Body of `POST /v1/streaming_query` (lightspeed-stack 0.7.1's QueryRequest)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "anyOf": [
                {"required": ["query"]},
                {
                    "required": ["tool_approvals"],
                    "properties": {"tool_approvals": {"type": "array", "minItems": 1}},
                },
            ]
        },
    )

    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"generate_topic_summary", "shield_ids", "solr"}
    )
    """Fields lightspeed-stack accepts that have no effect here (yet)."""

    query: NonBlank | None = Field(
        default=None,
        description="The user's question; required unless the body carries `tool_approvals`.",
        examples=["What is OpenShift?"],
        json_schema_extra=_string_only,
    )
    conversation_id: NonBlank | None = Field(
        default=None, description="Continue this conversation (from an earlier `start` frame)."
    )
    provider: NonBlank | None = None
    model: NonBlank | None = None
    system_prompt: str | None = None
    no_tools: bool | None = Field(
        default=False, description="Answer without tools (null is false, as in lightspeed-stack)."
    )
    attachments: list[Attachment] | None = None
    generate_topic_summary: bool | None = Field(default=None, description=IGNORED)
    media_type: Literal["application/json", "text/plain"] | None = Field(
        default=None,
        description="`text/plain`: the answer's text alone, as lightspeed-stack 0.7.1 streams it"
        " (no SSE frames, so no heartbeats); `application/json` or none: the SSE `format`.",
    )
    vector_store_ids: list[str] | None = Field(
        default=None,
        description="Search these vector stores for this turn, instead of the configured ones;"
        " each must be in `ALLOWED_VECTOR_STORE_IDS` (422 otherwise).",
    )
    shield_ids: list[str] | None = Field(default=None, description=IGNORED)
    solr: SolrOptions | None = Field(default=None, description=IGNORED)
    tool_approvals: list[ToolApproval] | None = Field(
        default=None,
        description="Decisions on the approval requests a turn paused at (of `conversation_id`,"
        " or theirs when it is left out): the turn goes on with them, and `query` is ignored"
        " (it may be left out).",
    )

    @model_validator(mode="before")
    @classmethod
    def _query_or_decisions(cls, data: Any) -> Any:
        """`query` is required (a string) unless the body decides approval requests."""
        if not isinstance(data, dict):
            return data
        if "query" in data and data["query"] is None:
            error = InitErrorDetails(type="string_type", loc=("query",), input=None)
        elif "query" not in data and not data.get("tool_approvals"):
            error = InitErrorDetails(type="missing", loc=("query",), input=data)
        else:
            return data
        raise ValidationError.from_exception_data(cls.__name__, [error])

    def to_turn(self) -> TurnRequest:
        """Return the agent turn this body asks for."""
        decisions = tuple(a.to_decision() for a in self.tool_approvals or ())
        return TurnRequest(
            query="" if decisions else self.query or "",
            conversation_id=self.conversation_id,
            model=self.model,
            provider=self.provider,
            system_prompt=self.system_prompt,
            no_tools=bool(self.no_tools),
            attachments=tuple(
                TurnAttachment(a.attachment_type, a.content_type, a.content)
                for a in self.attachments or ()
            ),
            vector_store_ids=tuple(self.vector_store_ids or ()),
            approval_decisions=decisions,
        )
