"""What a route declares next to its handler: body model, query, headers, responses by status.

    @routes.post("/v1/thing")
    @declare("Do the thing.", {200: Answer("Done.", Thing)}, SLOT_REFUSALS, body=ThingRequest)
    async def thing(request: web.Request) -> web.Response: ...

`service.http.openapi` walks the router and builds the document from these declarations only; the
suite fails on any status a route sends that its declaration (for that app's settings) lacks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.settings import Settings

JsonObject = dict[str, Any]
Condition = Callable[[Settings], bool]
Handler = Callable[..., Any]


def always(settings: Settings) -> bool:
    """Say yes: declared whatever the settings."""
    return True


def resumable(settings: Settings) -> bool:
    """Say whether streams are resumable (RESUME_WINDOW > 0)."""
    return settings.resume_window > 0


def auth_on(settings: Settings) -> bool:
    """Say whether requests authenticate (AUTH_MODE is not `none`)."""
    return settings.auth_mode != "none"


def jwt_auth(settings: Settings) -> bool:
    """Say whether tokens are JWTs checked against a JWKS (AUTH_MODE=jwt)."""
    return settings.auth_mode == "jwt"


@dataclass(frozen=True, slots=True)
class Header:
    """A header a request may carry, or a response does carry."""

    description: str = ""
    required: bool = False
    schema: JsonObject = field(default_factory=lambda: {"type": "string"})
    when: Condition = always


Content = Mapping[str, type[BaseModel] | JsonObject]
"""Media type → the model (or, for non-JSON text, the JSON Schema) of the body."""

TEXT: JsonObject = {"type": "string"}
"""The schema of a plain-text body."""
FORMAT_NAME_KEY = "x-format-name"
FORMAT_NAME: JsonObject = {FORMAT_NAME_KEY: True}
"""`json_schema_extra` of a query field that names a format: the document lists the installed."""


class ServerSentEvent(BaseModel):
    """One server-sent event, as a WHATWG parser dispatches it (comments dispatch nothing).

    Before OpenAPI 3.2's `itemSchema`, an event stream's `schema` describes each event. What
    `data` holds depends on the format (see `GET /v1/formats`).
    """

    model_config = ConfigDict(extra="forbid")

    event: str = "message"
    data: str
    id: str = ""
    retry: int = Field(default=0, ge=0)


@dataclass(frozen=True, slots=True)
class Answer:
    """One response a route may send: what it means, and the model of its body.

    `model` is an `application/json` body; `content` any other media types; `stream` adds the
    installed formats' SSE media types (each event a `ServerSentEvent`).
    """

    description: str
    model: type[BaseModel] | None = None
    content: Content = field(default_factory=dict)
    stream: bool = False
    headers: Mapping[str, Header] = field(default_factory=dict)
    when: Condition = always
    error: bool = False
    """An error answer (`errors.refusal`): a route's `ErrorDialect` reshapes it."""

    def but(self, description: str | None = None, *, when: Condition | None = None) -> Answer:
        """Return this answer described for one route, or declared under another condition."""
        return Answer(
            description or self.description,
            self.model,
            self.content,
            self.stream,
            self.headers,
            when or self.when,
            self.error,
        )

    def spoken(self, dialect: ErrorDialect) -> Answer:
        """Return this error answer as a route that speaks `dialect` sends it."""
        return replace(self, model=dialect.model)


@dataclass(frozen=True, slots=True)
class ErrorParts:
    """What an error answer says, before it is put in a protocol's shape."""

    status: int
    response: str
    cause: str


ErrorShape = Callable[[ErrorParts], tuple[int, dict[str, Any]]]
"""Puts an error in a protocol's own shape: its status and JSON body."""


@dataclass(frozen=True, slots=True)
class ErrorDialect:
    """The errors of a route that speaks another protocol: their body `model` and `shape`.

    Declared on a route (`declare(errors=...)`), it is all it takes: the app answers every
    error of the route through `shape` (`errors.speak_declared_errors`), and the document
    shows each error answer at the status `shape` gives it, with `model` as its body.
    """

    model: type[BaseModel]
    shape: ErrorShape

    def status(self, status: int) -> int:
        """Return the status `shape` sends for an error the contract sends with `status`."""
        return self.shape(ErrorParts(status, "", ""))[0]


Answers = Mapping[int, Answer]
"""Status → answer; a route declares several (its own, and shared ones such as a slot's)."""


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """Everything a route declares; `listed` is False for routes the document leaves out."""

    summary: str
    answers: tuple[Answers, ...]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    headers: Mapping[str, Header] = field(default_factory=dict)
    listed: bool = True
    errors: ErrorDialect | None = None


_SPECS: dict[Handler, RouteSpec] = {}


def declare[H: Handler](
    summary: str,
    *answers: Answers,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    headers: Mapping[str, Header] | None = None,
    listed: bool = True,
    errors: ErrorDialect | None = None,
) -> Callable[[H], H]:
    """Declare the handler's request and its answers (under the route decorator, over the def).

    One status in two of `answers` is one response, both described. A body adds the refusals
    of reading it (`request_body.BODY_REFUSALS`); a route that auth guards adds its refusals
    (`auth.AUTH_REFUSALS`) when auth is on: neither is declared by hand. A route whose errors
    take another protocol's shape says which in `errors` (an `ErrorDialect`).
    """
    spec = RouteSpec(summary, answers, body, query, dict(headers or {}), listed, errors)

    def register(handler: H) -> H:
        _SPECS[handler] = spec
        return handler

    return register


def spec_of(handler: Handler) -> RouteSpec | None:
    """Return what the handler declared, or None if it declared nothing."""
    return _SPECS.get(handler)
