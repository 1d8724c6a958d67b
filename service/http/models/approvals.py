"""The answer of `POST /v1/tool-approvals` (its body is a query's `ToolApproval`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class ToolApprovalDecided(BaseModel):
    """The answer of `POST /v1/tool-approvals`: the request is decided; its turn goes on."""

    model_config = ConfigDict(extra="forbid")

    approval_id: str
    decision: Literal["approved", "denied"]
