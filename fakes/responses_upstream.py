"""A fake llama-stack 0.7 or OGX 1.x server (Responses, conversations, models) replaying real bytes."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from fakes.agents_upstream import Drop, Script, ScriptedTurns, Sleep, Status, Step
from fakes.fixtures import RESPONSES_FIXTURES, capture_events, capture_frames

__all__ = [
    "WEATHER_TOOL",
    "ApprovalScript",
    "Drop",
    "FakeResponsesUpstream",
    "Sleep",
    "Status",
    "approval_request_turn",
    "fixture_events",
    "fixture_steps",
]

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
"""The client's get_weather as chat completions' `tools` take it: the function tool.sse calls."""

_CONVERSATION_ID = re.compile(r"conv_[0-9a-f]{48}")


def fixture_steps(name: str) -> list[Step]:
    """Return a capture's `data:` frames as separate writes."""
    steps: list[Step] = [*capture_frames(RESPONSES_FIXTURES / name)]
    return steps


def fixture_events(name: str | Path) -> list[dict[str, Any]]:
    """Return a capture's stream events as decoded JSON."""
    return capture_events(name if isinstance(name, Path) else RESPONSES_FIXTURES / name)


def sse(payload: dict[str, Any]) -> bytes:
    """Encode one stream event the way llama-stack does (`data: <json>` and a blank line)."""
    return f"data: {json.dumps(payload)}\n\n".encode()


def message_item(item_id: str, text: str) -> dict[str, Any]:
    """An assistant message output item with one `output_text` part."""
    return {
        "type": "message",
        "id": item_id,
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def response_steps(response_id: str, items: list[dict[str, Any]]) -> list[Step]:
    """A response as OGX streams it: created, each output item added (a message's text one
    delta per word) and done, then completed with them all as its `output`."""
    steps: list[Step] = [sse({"type": "response.created", "response": {"id": response_id}})]
    for index, item in enumerate(items):
        steps.append(
            sse({"type": "response.output_item.added", "item": item, "output_index": index})
        )
        if item["type"] == "message":
            for word in re.findall(r"\S+\s*", item["content"][0]["text"]):
                delta = {"delta": word, "item_id": item["id"], "content_index": 0}
                steps.append(
                    sse({"type": "response.output_text.delta", "output_index": index, **delta})
                )
        steps.append(
            sse({"type": "response.output_item.done", "item": item, "output_index": index})
        )
    completed = {"id": response_id, "status": "completed", "output": items}
    steps.append(sse({"type": "response.completed", "response": completed}))
    return steps


def approval_request_item(
    approval_id: str, name: str, arguments: str, server_label: str
) -> dict[str, Any]:
    """An `mcp_approval_request` output item, as OGX 1.5 sends it."""
    return {
        "type": "mcp_approval_request",
        "id": approval_id,
        "name": name,
        "arguments": arguments,
        "server_label": server_label,
    }


def approval_request_turn(
    *items: dict[str, Any], response_id: str = "resp_ask", text: str = ""
) -> list[Step]:
    """A response that says `text` (if any), asks approval for each item and completes."""
    said = [message_item(f"msg_{response_id}", text)] if text else []
    return response_steps(response_id, [*said, *items])


@dataclass
class ApprovalScript:
    """Continuations of a turn that asked approvals (a `FakeResponsesUpstream.script`).

    A continuation's `input` must hold, per decision, the copy of its `mcp_approval_request`
    item and then its `mcp_approval_response` (as OGX matches them); each approved call runs
    (an `mcp_call` item with `output`), each denied one is answered as not run. Any other body
    is a turn that answers `answer`. `mismatches` records what a continuation got wrong.
    """

    asked: dict[str, dict[str, Any]]
    """The approval request items by id, as the first response sent them."""
    output: str = "done"
    answer: str = "Hello."
    mismatches: list[str] = field(default_factory=list)

    def __call__(self, body: dict[str, Any]) -> list[Step]:
        """The steps of the response to `body`."""
        entries = body.get("input")
        if not isinstance(entries, list) or not any(
            isinstance(e, dict) and e.get("type") == "mcp_approval_response" for e in entries
        ):
            return response_steps("resp_plain", [message_item("msg_plain", self.answer)])
        calls: list[dict[str, Any]] = []
        said: list[str] = []
        for copy, decision in zip(entries[::2], entries[1::2], strict=False):
            asked = self.asked.get(decision.get("approval_request_id", ""))
            if asked is None or copy != asked or decision.get("type") != "mcp_approval_response":
                self.mismatches.append(f"unexpected input pair: {copy!r}, {decision!r}")
                continue
            if decision.get("approve"):
                calls.append(
                    {
                        "type": "mcp_call",
                        "id": f"mcp_{asked['id']}",
                        "name": asked["name"],
                        "arguments": asked["arguments"],
                        "server_label": asked["server_label"],
                        "output": self.output,
                        "error": None,
                    }
                )
                said.append(f"{asked['name']} said {self.output}.")
            else:
                said.append(f"{asked['name']} was not run.")
        if len(entries) % 2:
            self.mismatches.append(f"odd input: {entries!r}")
        answer = message_item("msg_go_on", " ".join(said))
        return response_steps("resp_go_on", [*calls, answer])


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message}}


@dataclass
class FakeResponsesUpstream(ScriptedTurns):
    """State and script of the fake server; `steps` is what the next response streams.

    A response streams the next of `turns`, else `script(body)` when a script is given (the
    benchmarks' fake, fakes/upstream.py), else `steps`.
    """

    steps: list[Step] = field(default_factory=list)
    script: Script | None = None
    turns: list[list[Step]] = field(default_factory=list)
    """Scripts of the next responses, one each, before `steps` plays for every later one."""
    server_version: str = "0.7.3"
    models: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"id": "all-minilm", "model_type": "embedding"},
            {"id": "openai/fake-model", "model_type": "llm"},
        ]
    )
    requests: list[dict[str, Any]] = field(default_factory=list)
    conversations: list[str] = field(default_factory=list)
    metadata: dict[str, dict[str, str] | None] = field(default_factory=dict)
    """Each conversation's metadata, as given at creation (llama-stack keeps and returns it)."""
    retrievals: list[str] = field(default_factory=list)
    created_at: int = field(default_factory=lambda: int(time.time()))
    """When every conversation was created (one time, so answers can be pinned)."""
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Each conversation's items, oldest first, as `GET /v1/conversations/{id}/items` lists them."""
    deleted: list[str] = field(default_factory=list)
    model_lists: int = 0
    client_versions: set[str] = field(default_factory=set)
    turn_client_versions: list[dict[str, str]] = field(default_factory=list)
    moderation_endpoint: str | None = "http://127.0.0.1:9/v1/moderations"
    version_asks: int = 0

    @property
    def is_ogx(self) -> bool:
        """OGX (1.0 and later): X-OGX-Client-Version is checked, `guardrails` is a boolean."""
        return int(self.server_version.split(".")[0]) >= 1

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.version_check])
        app.router.add_routes(self.routes())
        return app

    def routes(self) -> list[web.RouteDef]:
        """The server's routes (`app` serves them behind `version_check`)."""
        return [
            web.get("/v1/version", self._version),
            web.get("/v1/providers", self._providers),
            web.get("/v1/models", self._models),
            web.post("/v1/conversations", self._create_conversation),
            web.get("/v1/conversations/{conversation_id}", self._get_conversation),
            web.delete("/v1/conversations/{conversation_id}", self._delete_conversation),
            web.get("/v1/conversations/{conversation_id}/items", self._list_items),
            web.post("/v1/responses", self._responses),
        ]

    @web.middleware
    async def version_check(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Refuse a client whose major.minor differs, as llama-stack's/OGX's ClientVersionMiddleware.

        Each checks only its own header: llama-stack X-LlamaStack-Client-Version, OGX
        X-OGX-Client-Version.
        """
        self.client_versions.add(request.headers.get("X-LlamaStack-Client-Version", ""))
        header = "X-OGX-Client-Version" if self.is_ogx else "X-LlamaStack-Client-Version"
        version = request.headers.get(header, "")
        if version and version.split(".")[:2] != self.server_version.split(".")[:2]:
            message = (
                f"Client version {version} is not compatible with server version "
                f"{self.server_version}. Please update your client."
            )
            return web.json_response(_error(message), status=426)
        return await handler(request)

    async def _version(self, request: web.Request) -> web.Response:
        self.version_asks += 1
        return web.json_response({"version": self.server_version})

    async def _providers(self, request: web.Request) -> web.Response:
        config: dict[str, Any] = {"persistence": {"responses": {"table_name": "responses"}}}
        if self.is_ogx:
            config["moderation_endpoint"] = self.moderation_endpoint
        provider = {
            "api": "responses",
            "provider_id": "builtin",
            "provider_type": "inline::builtin",
            "config": config,
            "health": {"status": "Not Implemented"},
        }
        return web.json_response({"data": [provider]})

    async def _models(self, request: web.Request) -> web.Response:
        self.model_lists += 1
        return web.json_response({"data": [self.model_entry(model) for model in self.models]})

    @staticmethod
    def model_entry(model: dict[str, Any]) -> dict[str, Any]:
        """One model as `GET /v1/models` lists it (OpenAI's shape, llama-stack's metadata)."""
        return {
            "id": model["id"],
            "object": "model",
            "created": 1795515817,
            "owned_by": "llama_stack",
            "custom_metadata": {
                "model_type": model["model_type"],
                "provider_id": model["id"].partition("/")[0],
            },
        }

    async def _create_conversation(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        conversation_id = f"conv_{secrets.token_hex(24)}"
        self.conversations.append(conversation_id)
        self.metadata[conversation_id] = body.get("metadata")
        return web.json_response(self._conversation(conversation_id))

    async def _get_conversation(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation_id"]
        self.retrievals.append(conversation_id)
        if not _CONVERSATION_ID.fullmatch(conversation_id):
            message = "Must match format 'conv_' followed by 48 lowercase hex characters."
            return web.json_response(_error(message), status=400)
        if conversation_id not in self.conversations:
            return web.json_response(
                _error(f"Conversation '{conversation_id}' not found."), status=404
            )
        return web.json_response(self._conversation(conversation_id))

    async def _delete_conversation(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation_id"]
        if conversation_id not in self.conversations:
            return web.json_response(
                _error(f"Conversation '{conversation_id}' not found."), status=404
            )
        self.conversations.remove(conversation_id)
        self.deleted.append(conversation_id)
        return web.json_response(
            {"id": conversation_id, "object": "conversation.deleted", "deleted": True}
        )

    async def _list_items(self, request: web.Request) -> web.Response:
        """List a conversation's items in one page, in the order asked (llama-stack: desc)."""
        items = list(self.items.get(request.match_info["conversation_id"], []))
        if request.query.get("order", "desc") == "desc":
            items.reverse()
        first, last = (items[0]["id"], items[-1]["id"]) if items else (None, None)
        page = {"object": "list", "data": items, "first_id": first, "last_id": last}
        return web.json_response({**page, "has_more": False})

    def _conversation(self, conversation_id: str) -> dict[str, Any]:
        return {
            "id": conversation_id,
            "object": "conversation",
            "created_at": self.created_at,
            "metadata": self.metadata.get(conversation_id),
        }

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.turn_client_versions.append(
            {
                name.lower(): value
                for name, value in request.headers.items()
                if name.lower().endswith("-client-version")
            }
        )
        conversation = body.get("conversation")
        if conversation is not None and not _CONVERSATION_ID.fullmatch(conversation):
            message = "Must match format 'conv_' followed by 48 lowercase hex characters."
            return web.json_response(_error(message), status=400)
        if (refusal := self._guardrails_refusal(body.get("guardrails"))) is not None:
            return web.json_response(_error(refusal), status=400)
        if self.turns:
            steps = self.turns.pop(0)
        elif self.script is not None:
            steps = self.script(body)
        else:
            steps = list(self.steps)
        if steps and isinstance(steps[0], Status):
            return web.Response(
                status=steps[0].code, text=steps[0].body, content_type="application/json"
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        if conversation is not None and conversation not in self.conversations:
            # llama-stack looks the conversation up inside its stream generator: HTTP 200,
            # then its SSE error frame.
            message = f"Conversation '{conversation}' not found."
            await response.write(sse({"error": {"message": message, "code": "404"}}))
            await response.write_eof()
            return response
        return await self.play(request, response, steps)

    def _guardrails_refusal(self, guardrails: object) -> str | None:
        """The 400 message for a `guardrails` field this server's version cannot take, or None."""
        if guardrails is None:
            return None
        if self.is_ogx and not isinstance(guardrails, bool):
            return "guardrails: Input should be a valid boolean"
        if self.is_ogx and guardrails and not self.moderation_endpoint:
            return "Guardrails require a moderation endpoint to be configured on the server."
        if not self.is_ogx and not isinstance(guardrails, list):
            return "guardrails: Input should be a valid list"
        return None
