"""Request bodies the service accepts, validated with pydantic."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from service.upstream.turn import Attachment as TurnAttachment
from service.upstream.turn import TurnRequest

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


class QueryRequest(BaseModel):
    """Body of `POST /v1/streaming_query` (lightspeed-stack 0.7.1's QueryRequest)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"generate_topic_summary", "shield_ids", "solr"}
    )
    """Fields lightspeed-stack accepts that have no effect here (yet)."""

    query: NonBlank = Field(description="The user's question.", examples=["What is OpenShift?"])
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

    def to_turn(self) -> TurnRequest:
        """Return the agent turn this body asks for."""
        return TurnRequest(
            query=self.query,
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
        )
