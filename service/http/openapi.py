"""`GET /openapi.json`: the OpenAPI 3.1 document, built by walking the router's declared routes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from service.http.auth import AUTH_REFUSALS, is_open
from service.http.middleware import HEADER as REQUEST_ID_HEADER
from service.http.models.query import QueryRequest
from service.http.request_body import BODY_REFUSALS
from service.keys import REGISTRY, SETTINGS
from service.route_spec import (
    FORMAT_NAME_KEY,
    Answer,
    Answers,
    Header,
    JsonObject,
    RouteSpec,
    ServerSentEvent,
    auth_on,
    declare,
    spec_of,
)
from service.settings import Settings

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
_PATH_PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")
_UNDOCUMENTED_METHODS = frozenset({"HEAD", "OPTIONS"})
"""HEAD runs the GET handler; OPTIONS is CORS's preflight: neither is an operation of its own."""


class UndeclaredRoute(LookupError):
    """A route of the app has no `route_spec.declare` on its handler."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One (path, method) of the app: what its handler declared and what the document says."""

    path: str
    method: str
    answers: dict[int, Answer]
    document: JsonObject


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


def _ref(model: type[BaseModel]) -> JsonObject:
    return {"$ref": REF.format(model=model.__name__)}


class _Builder:
    """Builds operations for one app, noting every model they refer to."""

    def __init__(self, app: web.Application) -> None:
        self.settings: Settings = app[SETTINGS]
        self.media_types = sorted({info.media_type for info in app[REGISTRY].describe()})
        self.format_names = sorted(
            {name for info in app[REGISTRY].describe() for name in (info.name, *info.aliases)}
        )
        self.models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}

    def guarded(self, path: str) -> bool:
        return auth_on(self.settings) and not is_open(path, self.settings.auth_protect_metrics)

    def operation(self, path: str, spec: RouteSpec) -> JsonObject:
        operation: JsonObject = {"summary": spec.summary}
        parameters = [*self._path_parameters(path), *self._query(spec), *self._headers(spec)]
        if parameters:
            operation["parameters"] = parameters
        if spec.body is not None:
            self.models[(spec.body, "validation")] = None
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(spec.body)}},
            }
        operation["responses"] = {
            str(status): self._response(answer)
            for status, answer in sorted(self.answers(path, spec).items())
        }
        if self.guarded(path):
            operation["security"] = [{"bearer": []}]
        return operation

    def answers(self, path: str, spec: RouteSpec) -> dict[int, Answer]:
        """Every answer the route declares under these settings, the implied ones included."""
        sources: list[Answers] = list(spec.answers)
        if spec.body is not None:
            sources.append(BODY_REFUSALS)
        if self.guarded(path):
            sources.append(AUTH_REFUSALS)
        found: dict[int, Answer] = {}
        dialect = spec.errors
        for source in sources:
            for status, answer in source.items():
                if not answer.when(self.settings):
                    continue
                if dialect is not None and answer.error:
                    status, answer = dialect.status(status), answer.spoken(dialect)
                if status in found:  # two causes of one status: both described
                    answer = found[status].but(f"{found[status].description} {answer.description}")
                found[status] = answer
        return found

    def _response(self, answer: Answer) -> JsonObject:
        content: JsonObject = {}
        if answer.model is not None:
            content["application/json"] = {"schema": self._model(answer.model)}
        for media_type, schema in answer.content.items():
            content[media_type] = {
                "schema": schema if isinstance(schema, dict) else self._model(schema)
            }
        if answer.stream:
            for media_type in self.media_types:
                content[media_type] = {"schema": self._model(ServerSentEvent)}
        headers = {REQUEST_ID_HEADER: _REQUEST_ID, **answer.headers}
        return {
            "description": answer.description,
            "headers": {
                name: _header(header)
                for name, header in headers.items()
                if header.when(self.settings)
            },
            "content": content,
        }

    def _model(self, model: type[BaseModel]) -> JsonObject:
        self.models[(model, "serialization")] = None
        return _ref(model)

    def _path_parameters(self, path: str) -> Iterator[JsonObject]:
        for name in _PATH_PARAMETER.findall(path):
            yield {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}

    def _query(self, spec: RouteSpec) -> Iterator[JsonObject]:
        if spec.query is None:
            return
        schema = spec.query.model_json_schema()
        required = set(schema.get("required", ()))
        for name, field in schema["properties"].items():
            field = {key: value for key, value in field.items() if key != "title"}
            parameter = {"name": name, "in": "query", "required": name in required}
            if "description" in field:
                parameter["description"] = field.pop("description")
            if field.pop(FORMAT_NAME_KEY, False):
                field["enum"] = self.format_names
            yield {**parameter, "schema": field}

    def _headers(self, spec: RouteSpec) -> Iterator[JsonObject]:
        for name, header in spec.headers.items():
            if header.when(self.settings):
                yield {"name": name, "in": "header", "required": header.required, **_header(header)}

    def components(self) -> JsonObject:
        """Return the schemas of every model the operations refer to."""
        _, schemas = models_json_schema(list(self.models), ref_template=REF)
        defs = schemas.get("$defs", {})
        if QueryRequest.__name__ in defs:
            _offered_vector_stores(
                defs[QueryRequest.__name__], self.settings.allowed_vector_store_ids
            )
        return dict(sorted(_spell_out_patterns(defs).items()))


def _offered_vector_stores(query: JsonObject, allowed: list[str]) -> None:
    """Let the schema say which vector stores a request may name: the allowed ones, or none."""
    field = query["properties"]["vector_store_ids"]
    (array,) = [schema for schema in field["anyOf"] if schema.get("type") == "array"]
    if allowed:
        array["items"] = {"type": "string", "enum": list(allowed)}
    else:
        array["maxItems"] = 0


_REQUEST_ID = Header(
    "The request's id: the caller's `X-Request-ID` if it is a safe token, else new."
)


def _header(header: Header) -> JsonObject:
    answer: JsonObject = {}
    if header.description:
        answer["description"] = header.description
    if header.required:
        answer["required"] = True
    answer["schema"] = header.schema
    return answer


def _routes(app: web.Application) -> Iterator[tuple[str, str, RouteSpec]]:
    for route in app.router.routes():
        if route.method in _UNDOCUMENTED_METHODS or route.resource is None:
            continue
        path, method = route.resource.canonical, route.method.lower()
        spec = spec_of(route.handler)
        if spec is None:
            raise UndeclaredRoute(
                f"{route.method} {path} ({route.handler.__qualname__}) declares nothing: "
                "decorate it with service.route_spec.declare(...)"
            )
        yield path, method, spec


def operations(app: web.Application) -> list[Operation]:
    """Every operation of the app (those the document leaves out too), as the document has it."""
    builder = _Builder(app)
    return [
        Operation(path, method, builder.answers(path, spec), builder.operation(path, spec))
        for path, method, spec in _routes(app)
    ]


def build_openapi(app: web.Application) -> JsonObject:
    """Return the OpenAPI document of this app's routes, from what each handler declares."""
    settings = app[SETTINGS]
    builder = _Builder(app)
    paths: JsonObject = {}
    for path, method, spec in _routes(app):
        if spec.listed:
            paths.setdefault(path, {})[method] = builder.operation(path, spec)
    document: JsonObject = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "agent-stream-gateway",
            "version": _version(),
            "description": "Streams llama-stack agent turns to chat frontends as SSE.",
        },
        "paths": paths,
        "components": {"schemas": builder.components()},
    }
    if auth_on(settings):
        document["components"]["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT" if settings.auth_mode == "jwt" else "API key",
            }
        }
    return document


def _version() -> str:
    try:
        return version("agent-stream-gateway")
    except PackageNotFoundError:
        return "0+unknown"


openapi_routes = web.RouteTableDef()


@openapi_routes.get("/openapi.json")
@declare(
    "This document.",
    {200: Answer("An OpenAPI 3.1 document.", content={"application/json": {"type": "object"}})},
)
async def openapi(request: web.Request) -> web.Response:
    """Serve the OpenAPI document of this app (its formats, whether auth is on)."""
    return web.json_response(build_openapi(request.app))
