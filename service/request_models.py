"""Request bodies the service accepts, validated with pydantic."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

NonBlank = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, pattern=r"\S")]


class Attachment(BaseModel):
    """A document sent along with the query (lightspeed-stack's Attachment)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    attachment_type: str = Field(examples=["log"])
    content_type: str = Field(examples=["text/plain"])
    content: str


class QueryRequest(BaseModel):
    """Body of `POST /v1/streaming_query` (lightspeed-stack's QueryRequest)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    query: NonBlank = Field(description="The user's question.", examples=["What is OpenShift?"])
    conversation_id: NonBlank | None = Field(
        default=None, description="Continue this conversation (from an earlier `start` frame)."
    )
    provider: NonBlank | None = None
    model: NonBlank | None = None
    system_prompt: str | None = None
    no_tools: bool = False
    attachments: list[Attachment] | None = None
    media_type: str | None = Field(
        default=None, description="Accepted for lightspeed-stack compatibility; ignored."
    )
