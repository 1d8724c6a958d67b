"""`GET /openapi.json`: the OpenAPI 3.1 document of every route, from the request models."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema

from service.auth import is_open
from service.chat_request import ChatCompletionRequest
from service.lightspeed_models import ANSWER_MODELS
from service.registry import DEFAULT_FORMAT, FormatterRegistry
from service.request_models import QueryRequest
from service.responses_request import ResponsesRequest
from service.resume.routes import InterruptRequest
from service.settings import Settings
from service.state import REGISTRY, SETTINGS

JsonObject = dict[str, Any]
OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"


class ErrorDetail(BaseModel):
    """What went wrong: a short message and the exact cause."""

    model_config = ConfigDict(extra="forbid")

    response: str
    cause: str


class ErrorBody(BaseModel):
    """The contract's error shape (lightspeed-stack's)."""

    model_config = ConfigDict(extra="forbid")

    detail: ErrorDetail


class OpenAIError(BaseModel):
    """OpenAI's error object."""

    model_config = ConfigDict(extra="forbid")

    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIErrorBody(BaseModel):
    """OpenAI's error shape, which the OpenAI routes (`/v1/responses`) answer with."""

    model_config = ConfigDict(extra="forbid")

    error: OpenAIError


class FormatDescription(BaseModel):
    """One installed format, as `GET /v1/formats` lists it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    aliases: list[str]
    media_type: str
    description: str


_ERRORS = {
    400: "Unknown format (the cause names the installed ones).",
    401: "Authentication is on and the bearer token is missing or not valid.",
    413: "The body is larger than MAX_BODY_BYTES.",
    404: (
        "No resumable stream has this id: unknown, expired, started by someone else, or "
        "resumable streams are off (RESUME_WINDOW = 0). With auth on, also: no conversation "
        "of the caller's has the `conversation_id` (unknown, or started by someone else)."
    ),
    415: "The body is not JSON by its content type.",
    422: "Malformed JSON, missing or blank required fields, wrong types or unknown fields.",
    429: "More than MAX_CONCURRENT_STREAMS streams are open; retry after `Retry-After` seconds.",
    500: "The service failed (never with a traceback).",
    502: "The agent turn failed after it started (non-streamed answers only).",
    503: "The upstream could not start the turn, or this instance is draining.",
    504: "The agent turn ran out of time (non-streamed answers only).",
}

_NO_CONVERSATION = (
    "No conversation of the caller's has this id (unknown, deleted, or someone else's): one "
    "answer for all three."
)

_REQUEST_ID = {
    "description": "The request's id: the caller's `X-Request-ID` if it is a safe token, else new.",
    "schema": {"type": "string"},
}


def _json(schema: JsonObject) -> JsonObject:
    return {"application/json": {"schema": schema}}


def _headers(**extra: JsonObject) -> JsonObject:
    return {"X-Request-ID": _REQUEST_ID, **extra}


def _error(
    status: int, description: str | None = None, model: str = "ErrorBody"
) -> JsonObject:
    answer: JsonObject = {
        "description": description or _ERRORS[status],
        "headers": _headers(),
        "content": _json({"$ref": REF.format(model=model)}),
    }
    if status == 429:
        answer["headers"] = _headers(
            **{"Retry-After": {"required": True, "schema": {"type": "string"}}}
        )
    if status == 401:
        answer["headers"] = _headers(
            **{"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}}
        )
    return answer


def _ok(description: str, content: JsonObject) -> JsonObject:
    return {"description": description, "headers": _headers(), "content": content}


SSE_EVENT: JsonObject = {
    "type": "object",
    "description": (
        "One server-sent event, as a WHATWG parser dispatches it (keep-alive comments dispatch "
        "nothing). Before OpenAPI 3.2's `itemSchema`, an event stream's `schema` describes each "
        "event. What `data` holds depends on the format (see `GET /v1/formats`)."
    ),
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer", "minimum": 0},
    },
    "required": ["data"],
}
"""An SSE event (the schema of `text/event-stream` content)."""

CHAT_COMPLETION: JsonObject = {
    "type": "object",
    "description": "OpenAI's `chat.completion`, plus `gateway_events` (see the README).",
    "properties": {
        "id": {"type": "string"},
        "object": {"const": "chat.completion"},
        "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "message": {"type": "object", "required": ["role", "content"]},
                    "finish_reason": {"type": ["string", "null"]},
                },
                "required": ["index", "message", "finish_reason"],
            },
        },
        "usage": {"type": ["object", "null"]},
        "gateway_events": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["id", "object", "created", "model", "choices"],
}
"""A non-streamed chat completion."""


NON_BLANK = r"[^\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
r"""What `\S` in the request models means to pydantic: a character not in Unicode White_Space.

In a JSON Schema (ECMA-262) regex `\s` leaves out U+0085 and takes in U+FEFF, so the document
would otherwise say a query of U+0085 alone is valid and one of U+FEFF alone is not."""


def _spell_out_patterns(schema: Any) -> Any:
    r"""Replace every `"pattern": "\S"` with NON_BLANK, recursively."""
    if isinstance(schema, dict):
        return {
            key: NON_BLANK if key == "pattern" and value == r"\S" else _spell_out_patterns(value)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_spell_out_patterns(item) for item in schema]
    return schema


def _stream_content(registry: FormatterRegistry) -> JsonObject:
    media_types = sorted({info.media_type for info in registry.describe()})
    return {media_type: {"schema": _ref("ServerSentEvent")} for media_type in media_types}


def _ref(model: str) -> JsonObject:
    return {"$ref": REF.format(model=model)}


def _ref_json(model: str) -> JsonObject:
    return _json(_ref(model))


def _operation(
    summary: str,
    responses: JsonObject,
    errors: tuple[int, ...] = (),
    *,
    body: str | None = None,
    parameters: list[JsonObject] | None = None,
    protected: bool = False,
    auth_on: bool = False,
    notes: dict[int, str] | None = None,
    error_model: str = "ErrorBody",
) -> JsonObject:
    operation: JsonObject = {"summary": summary, "responses": dict(responses)}
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": _json({"$ref": REF.format(model=body)}),
        }
    statuses = (*errors, 401) if protected and auth_on else errors
    for status in sorted(statuses):
        operation["responses"][str(status)] = _error(
            status, (notes or {}).get(status), error_model
        )
    if protected and auth_on:
        operation["security"] = [{"bearer": []}]
    return operation


def build_openapi(settings: Settings, registry: FormatterRegistry) -> JsonObject:
    """Return the OpenAPI document for an app with these settings and formats."""
    _, schemas = models_json_schema(
        [
            (model, "validation")
            for model in (
                QueryRequest,
                ChatCompletionRequest,
                ResponsesRequest,
                InterruptRequest,
                ErrorBody,
                OpenAIErrorBody,
                FormatDescription,
            )
        ]
        + [(model, "serialization") for model in ANSWER_MODELS],
        ref_template=REF,
    )
    auth_on = settings.auth_mode != "none"

    def guarded(path: str) -> bool:
        return not is_open(path, settings.auth_protect_metrics)

    names = sorted({name for info in registry.describe() for name in (info.name, *info.aliases)})
    format_parameter = {
        "name": "format",
        "in": "query",
        "required": False,
        "description": "A format's name or alias (`GET /v1/formats`).",
        "schema": {"type": "string", "enum": names, "default": DEFAULT_FORMAT},
    }
    resumable = settings.resume_window > 0
    last_event_id = {
        "name": "Last-Event-ID",
        "in": "header",
        "required": False,
        "description": "Resume a stream after this frame (`<stream id>:<sequence>`).",
        "schema": {"type": "string"},
    }
    stream_headers = _headers(
        **{
            "X-Stream-ID": {
                "description": "The stream's id, to resume it.",
                "schema": {"type": "string"},
            }
        }
    )
    any_object = _json({"type": "object"})
    non_streamed_errors = (
        (404, 413, 415, 422, 429, 500, 502, 503, 504)
        if auth_on
        else (413, 415, 422, 429, 500, 502, 503, 504)
    )
    conversation_parameter = {
        "name": "conversation_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }

    def conversation_operation(summary: str, ok: JsonObject) -> JsonObject:
        return _operation(
            summary,
            {"200": ok},
            (404, 503),
            parameters=[conversation_parameter],
            protected=guarded("/v1/conversations/x"),
            auth_on=auth_on,
            notes={404: _NO_CONVERSATION},
        )

    paths: JsonObject = {
        "/v1/streaming_query": {
            "post": _operation(
                "Stream one agent turn as SSE in the chosen format.",
                {
                    "200": {
                        "description": "The turn as SSE frames in the chosen format.",
                        "headers": stream_headers if resumable else _headers(),
                        "content": _stream_content(registry),
                    }
                },
                (400, 404, 413, 415, 422, 429, 503)
                if resumable or auth_on
                else (400, 413, 415, 422, 429, 503),
                body="QueryRequest",
                parameters=[format_parameter, last_event_id] if resumable else [format_parameter],
                protected=guarded("/v1/streaming_query"),
                auth_on=auth_on,
            )
        },
        "/v1/streams/{stream_id}": {
            "get": _operation(
                "Replay a resumable stream after `Last-Event-ID` (or `?after=`), then follow it.",
                {
                    "200": {
                        "description": "The stream's frames after the given one, then live.",
                        "headers": stream_headers,
                        "content": _stream_content(registry),
                    }
                },
                (404, 422, 503),
                parameters=[
                    {
                        "name": "stream_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "after",
                        "in": "query",
                        "required": False,
                        "description": "Resume after this frame sequence; -1: from the start.",
                        "schema": {"type": "integer", "minimum": -1},
                    },
                    last_event_id,
                ],
                protected=guarded("/v1/streams/x"),
                auth_on=auth_on,
            )
        },
        "/v1/streaming_query/interrupt": {
            "post": _operation(
                "Stop a running turn by its stream id (lightspeed-stack's shape).",
                {
                    "200": _ok(
                        "The turn was stopped.",
                        _json(
                            {
                                "type": "object",
                                "properties": {
                                    "request_id": {"type": "string"},
                                    "interrupted": {"const": True},
                                    "message": {"type": "string"},
                                },
                                "required": ["request_id", "interrupted", "message"],
                            }
                        ),
                    )
                },
                (404, 413, 415, 422, 503),
                body="InterruptRequest",
                protected=guarded("/v1/streaming_query/interrupt"),
                auth_on=auth_on,
            )
        },
        "/v1/formats": {
            "get": _operation(
                "List the installed formats.",
                {
                    "200": _ok(
                        "The installed formats.",
                        _json(
                            {
                                "type": "array",
                                "items": {"$ref": REF.format(model="FormatDescription")},
                            }
                        ),
                    )
                },
                protected=guarded("/v1/formats"),
                auth_on=auth_on,
            )
        },
        "/v1/chat/completions": {
            "post": _operation(
                "OpenAI-compatible chat completion over one agent turn.",
                {
                    "200": _ok(
                        "With `stream: true` the `openai` SSE format, else one `chat.completion`.",
                        {
                            "application/json": {"schema": _ref("ChatCompletion")},
                            "text/event-stream": {"schema": _ref("ServerSentEvent")},
                        },
                    )
                },
                non_streamed_errors,
                body="ChatCompletionRequest",
                protected=guarded("/v1/chat/completions"),
                auth_on=auth_on,
            )
        },
        "/v1/responses": {
            "post": _operation(
                "OpenAI Responses API over one agent turn; errors in OpenAI's error shape.",
                {
                    "200": _ok(
                        "With `stream: true` the `responses` SSE format, else one `response`.",
                        {
                            "application/json": {"schema": {"type": "object"}},
                            "text/event-stream": {"schema": _ref("ServerSentEvent")},
                        },
                    )
                },
                (400, 404, *non_streamed_errors),
                body="ResponsesRequest",
                protected=guarded("/v1/responses"),
                auth_on=auth_on,
                notes={
                    400: "Something an agent turn cannot do (client function tools, ...).",
                    404: "`previous_response_id` or `conversation` is not one of the caller's.",
                },
                error_model="OpenAIErrorBody",
            )
        },
        "/v1/responses/{response_id}": {
            "get": _operation(
                "Replay a streamed response's events after `starting_after`, then follow it.",
                {
                    "200": {
                        "description": "The response's events after `starting_after`.",
                        "headers": stream_headers,
                        "content": {"text/event-stream": {"schema": _ref("ServerSentEvent")}},
                    },
                    "204": {"description": "The response has ended with nothing after it."},
                },
                (400, 404, 429, 503),
                parameters=[
                    {
                        "name": "response_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "stream",
                        "in": "query",
                        "required": True,
                        "description": "Must be `true`: a response is kept as its event stream.",
                        "schema": {"type": "string", "enum": ["true"]},
                    },
                    {
                        "name": "starting_after",
                        "in": "query",
                        "required": False,
                        "description": "The `sequence_number` of the last event seen.",
                        "schema": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
                    },
                ],
                protected=guarded("/v1/responses/x"),
                auth_on=auth_on,
                notes={
                    400: "`stream` is not `true`, or `starting_after` is not a sequence number.",
                    404: "No resumable stream has this response id: unknown, expired, someone "
                    "else's, or resumable streams are off (RESUME_WINDOW = 0).",
                    429: "The stream has as many followers as MAX_FOLLOWERS_PER_STREAM allows.",
                    503: "The stream store cannot be reached.",
                },
                error_model="OpenAIErrorBody",
            )
        },
        "/v1/query": {
            "post": _operation(
                "Run one agent turn and answer it whole (lightspeed-stack 0.7.1's QueryResponse).",
                {
                    "200": _ok(
                        "The turn's answer, tool calls and results.", _ref_json("QueryAnswer")
                    )
                },
                non_streamed_errors,
                body="QueryRequest",
                protected=guarded("/v1/query"),
                auth_on=auth_on,
                notes={404: _NO_CONVERSATION},
            )
        },
        "/v1/models": {
            "get": _operation(
                "The upstream's models: OpenAI's list (`data`) and lightspeed-stack's (`models`).",
                {"200": _ok("Every model the upstream lists.", _ref_json("ModelList"))},
                (503,),
                protected=guarded("/v1/models"),
                auth_on=auth_on,
            )
        },
        "/v1/conversations/{conversation_id}": {
            "get": conversation_operation(
                "The caller's conversation history (lightspeed-stack 0.7.1's shape).",
                _ok("The conversation's turns.", _ref_json("ConversationAnswer")),
            ),
            "delete": conversation_operation(
                "Delete the caller's conversation upstream and drop its owner binding.",
                _ok("It was deleted.", _ref_json("ConversationDeleted")),
            ),
        },
        "/v1/events/schema": {
            "get": _operation(
                "JSON Schema of the normalized events (what the `raw` format sends).",
                {"200": _ok("A JSON Schema.", any_object)},
                protected=guarded("/v1/events/schema"),
                auth_on=auth_on,
            )
        },
        "/readiness": {
            "get": _operation(
                "Whether the upstream answers (cached briefly); 503 while draining.",
                {
                    "200": _ok("Ready.", _json(_probe("ready", reason=False))),
                    "503": _ok("Not ready, and why.", _json(_probe("ready", reason=True))),
                },
            )
        },
        "/liveness": {
            "get": _operation(
                "Answers while the event loop runs; never asks the upstream.",
                {"200": _ok("Alive.", _json(_probe("alive", reason=False)))},
            )
        },
        "/metrics": {
            "get": _operation(
                "Prometheus metrics (OpenMetrics if the Accept header asks for it).",
                {
                    "200": _ok(
                        "The metrics in text format.",
                        {
                            "text/plain": {"schema": {"type": "string"}},
                            "application/openmetrics-text": {"schema": {"type": "string"}},
                        },
                    )
                },
                protected=guarded("/metrics"),
                auth_on=auth_on,
            )
        },
        "/": {
            "get": _operation(
                "The chat page.",
                {
                    "200": _ok("The page.", {"text/html": {"schema": {"type": "string"}}}),
                    "503": _ok(
                        "The page is not built.", {"text/plain": {"schema": {"type": "string"}}}
                    ),
                },
            )
        },
        "/openapi.json": {
            "get": _operation(
                "This document.", {"200": _ok("An OpenAPI 3.1 document.", any_object)}
            )
        },
    }
    document: JsonObject = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "agent-stream-gateway",
            "version": _version(),
            "description": "Streams llama-stack agent turns to chat frontends as SSE.",
        },
        "paths": paths,
        "components": {
            "schemas": {
                **_spell_out_patterns(schemas["$defs"]),
                "ServerSentEvent": SSE_EVENT,
                "ChatCompletion": CHAT_COMPLETION,
            }
        },
    }
    if auth_on:
        document["components"]["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT" if settings.auth_mode == "jwt" else "API key",
            }
        }
    return document


def _probe(field: str, *, reason: bool) -> JsonObject:
    properties: JsonObject = {field: {"type": "boolean", "const": not reason}}
    if reason:
        properties["reason"] = {"type": "string"}
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _version() -> str:
    try:
        return version("agent-stream-gateway")
    except PackageNotFoundError:
        return "0+unknown"


openapi_routes = web.RouteTableDef()


@openapi_routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    """Serve the OpenAPI document of this app (its formats, whether auth is on)."""
    app = request.app
    return web.json_response(build_openapi(app[SETTINGS], app[REGISTRY]))
