"""Responses stream events (llama-stack 0.4+, OGX 1.x): models of the rare, kinds of the rest."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WireAnnotation(_Wire):
    """An annotation of output text; `file_citation` names a file a file_search call returned."""

    type: str
    file_id: str | None = None
    filename: str | None = None


class WireContentPart(_Wire):
    """A part of a message: `output_text`, `refusal`, `reasoning_text` or another kind."""

    type: str
    text: str | None = None
    refusal: str | None = None
    annotations: list[WireAnnotation] = Field(default_factory=list)


class WireMessageItem(_Wire):
    """An assistant message output item."""

    type: Literal["message"]
    id: str | None = None
    content: str | list[WireContentPart] = Field(default_factory=list)


class WireFunctionCallItem(_Wire):
    """A function call the client must run (its result goes back in the next request)."""

    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str = ""
    id: str | None = None


class WireMcpCallItem(_Wire):
    """An MCP tool call the server runs; `output` or `error` once done."""

    type: Literal["mcp_call"]
    id: str
    name: str
    arguments: str = ""
    server_label: str | None = None
    output: str | None = None
    error: str | None = None


class WireMcpApprovalRequestItem(_Wire):
    """An MCP tool call waiting for the client's approval."""

    type: Literal["mcp_approval_request"]
    id: str
    name: str
    arguments: str = ""
    server_label: str | None = None


class WireFileSearchResult(_Wire):
    """One chunk a file_search call found."""

    attributes: dict[str, Any] = Field(default_factory=dict)
    file_id: str = ""
    filename: str = ""
    text: str = ""


class WireFileSearchCallItem(_Wire):
    """A file_search call the server runs over vector stores."""

    type: Literal["file_search_call"]
    id: str
    queries: list[str] = Field(default_factory=list)
    results: list[WireFileSearchResult] | None = None


class WireWebSearchCallItem(_Wire):
    """A web_search call the server runs."""

    type: Literal["web_search_call"]
    id: str


class WireOtherItem(_Wire):
    """An output item with nothing to show (mcp_list_tools, reasoning, or a newer kind)."""

    type: str


_ITEM_TAGS = frozenset(
    {
        "message",
        "function_call",
        "mcp_call",
        "mcp_approval_request",
        "file_search_call",
        "web_search_call",
    }
)


def _item_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in _ITEM_TAGS else "other"


WireOutputItem = Annotated[
    Annotated[WireMessageItem, Tag("message")]
    | Annotated[WireFunctionCallItem, Tag("function_call")]
    | Annotated[WireMcpCallItem, Tag("mcp_call")]
    | Annotated[WireMcpApprovalRequestItem, Tag("mcp_approval_request")]
    | Annotated[WireFileSearchCallItem, Tag("file_search_call")]
    | Annotated[WireWebSearchCallItem, Tag("web_search_call")]
    | Annotated[WireOtherItem, Tag("other")],
    Discriminator(_item_tag),
]


class WireUsage(_Wire):
    """Token counts of a finished response."""

    input_tokens: int = 0
    output_tokens: int = 0


class WireError(_Wire):
    """Why a response failed."""

    code: str | None = None
    message: str | None = None


class WireResponse(_Wire):
    """The response object carried by lifecycle events."""

    id: str | None = None
    output: list[WireOutputItem] = Field(default_factory=list)
    usage: WireUsage | None = None
    error: WireError | None = None


class WireLifecycleEvent(_Wire):
    """response.created / in_progress / completed / incomplete / failed."""

    type: Literal[
        "response.created",
        "response.in_progress",
        "response.completed",
        "response.incomplete",
        "response.failed",
    ]
    response: WireResponse


class WireOutputItemEvent(_Wire):
    """response.output_item.added / done."""

    type: Literal["response.output_item.added", "response.output_item.done"]
    item: WireOutputItem


DELTA_EVENTS = frozenset(
    {
        "response.output_text.delta",
        "response.refusal.delta",
        "response.reasoning_text.delta",
        "response.reasoning_summary_text.delta",
        "response.function_call_arguments.delta",
        "response.mcp_call.arguments.delta",
    }
)
"""Text, refusal, reasoning and tool-argument deltas: `delta` (str), `item_id` (str or absent).

The normalizer reads these (most events of a stream) from the decoded JSON, without a model.
"""


class WireArgumentsDoneEvent(_Wire):
    """The complete arguments of a function or MCP call."""

    type: Literal["response.function_call_arguments.done", "response.mcp_call.arguments.done"]
    arguments: str
    item_id: str


class WireErrorEvent(_Wire):
    """An `error` stream event (the OpenAI Responses protocol's in-band error)."""

    type: Literal["error"]
    code: str | None = None
    message: str | None = None


QUIET_EVENTS = frozenset(
    {
        "response.content_part.added",
        "response.content_part.done",
        "response.output_text.done",
        "response.output_text.annotation.added",
        "response.refusal.done",
        "response.reasoning_text.done",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_part.done",
        "response.reasoning_summary_text.done",
        "response.mcp_list_tools.in_progress",
        "response.mcp_list_tools.completed",
        "response.mcp_list_tools.failed",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
        "response.file_search_call.in_progress",
        "response.file_search_call.searching",
        "response.file_search_call.completed",
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
        "response.web_search_call.completed",
    }
)
"""Progress markers whose content the other events already carry: read by their type alone."""

WireStreamEvent = WireLifecycleEvent | WireOutputItemEvent | WireArgumentsDoneEvent | WireErrorEvent

EVENT_MODELS: dict[str, type[WireStreamEvent]] = {
    kind: model
    for model in (WireLifecycleEvent, WireOutputItemEvent, WireArgumentsDoneEvent, WireErrorEvent)
    for kind in get_args(model.model_fields["type"].annotation)
}
"""The stream events read through a model (a few per turn), by type."""
