"""Read a finished stream of our service (`lightspeed-0.1` or `raw` format) into what a user sees."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from formatters import raw
from service.upstream.sse import SSEDecoder


@dataclass
class StreamSummary:
    """The frames of one stream, and the content they carried."""

    events: list[str] = field(default_factory=list)
    conversation_id: str | None = None
    answer: str = ""
    turn_complete: str | None = None
    tool_calls: list[str] = field(default_factory=list)
    tool_results: list[str] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    raw: list[Any] = field(default_factory=list)

    def describe(self) -> str:
        """Return the frames as text, for assertion messages."""
        return "\n".join(json.dumps(item)[:400] for item in self.raw)


def summarize(format_name: str, body: bytes) -> StreamSummary:
    """Parse an SSE body of the given format; every frame must be complete."""
    assert body.endswith(b"\n\n"), f"stream does not end with a complete frame: {body[-200:]!r}"
    decoder = SSEDecoder()
    messages = decoder.feed(body)
    if format_name == "lightspeed-0.1":
        return _lightspeed_01([json.loads(m.data) for m in messages])
    if format_name == "raw":
        return _raw([(m.event, json.loads(m.data)) for m in messages])
    raise ValueError(f"no reader for format {format_name}")


def _lightspeed_01(frames: list[dict[str, Any]]) -> StreamSummary:
    summary = StreamSummary(raw=frames)
    for frame in frames:
        name, data = frame["event"], frame["data"]
        summary.events.append(name)
        if name == "start":
            summary.conversation_id = data["conversation_id"]
        elif name == "token" and data.get("role") == "inference":
            summary.answer += data["token"]
        elif name == "token" and data.get("role") == "shield_call":
            if data["token"].startswith("Violation:"):
                summary.violations.append(data["token"])
        elif name == "tool_call" and data["token"]:
            token = data["token"]
            tool, _, rest = token.partition(" ")
            if tool.startswith("Tool:") and rest.startswith(("response:", "summary:")):
                summary.tool_results.append(token)
            else:
                summary.tool_calls.append(token)
        elif name == "turn_complete":
            summary.turn_complete = data["token"]
        elif name == "error":
            summary.errors.append(data["token"])
        elif name == "end":
            summary.documents = [
                {"title": doc["doc_title"], "url": doc["doc_url"]}
                for doc in data["referenced_documents"]
            ]
    return summary


def _raw(frames: list[tuple[str, dict[str, Any]]]) -> StreamSummary:
    summary = StreamSummary(raw=[{"event": name, **data} for name, data in frames])
    for sse_name, data in frames:
        name = data["type"]
        assert raw.event_name(name) == sse_name, f"event {sse_name!r} is not {name!r}'s name"
        summary.events.append(name)
        if name == "start":
            summary.conversation_id = data["conversation_id"]
        elif name == "text_delta":
            summary.answer += data["text"]
        elif name == "tool_call":
            summary.tool_calls.append(data["name"])
        elif name == "tool_result":
            content = data["content"]
            text = content if isinstance(content, str) else json.dumps(content)
            summary.tool_results.append(f"{data['name']}: {text}")
        elif name == "shield" and data["violation"] is not None:
            summary.violations.append(json.dumps(data["violation"]))
        elif name == "turn_complete":
            summary.turn_complete = data["text"]
        elif name == "error":
            summary.errors.append(data["message"])
        elif name == "end":
            summary.documents = [
                {"title": doc["title"], "url": doc["url"]} for doc in data["referenced_documents"]
            ]
    return summary
