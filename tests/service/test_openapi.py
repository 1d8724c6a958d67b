"""`GET /openapi.json`: a valid OpenAPI 3.1 document of every route, and schemathesis against it."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from pydantic import BaseModel, ValidationError
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from service.http.app import create_app
from service.http.models.chat import ChatCompletionRequest
from service.http.models.query import QueryRequest
from service.http.openapi import NON_BLANK, UndeclaredRoute, build_openapi
from service.route_spec import Answer, ErrorDialect, ErrorParts, declare
from service.settings import Settings
from service.streams.non_streamed import UNAVAILABLE
from service.streams.registry import load_registry

SCHEMATHESIS_EXAMPLES = 100
"""Examples per operation: about 15 s for the whole run on this 2-core machine."""


def routes_of(settings: Settings) -> set[tuple[str, str]]:
    app = create_app(settings, upstream=object())  # type: ignore[arg-type]
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method == "HEAD" or path.startswith("/ui/"):
            continue
        found.add((path, route.method.lower()))
    return found


async def test_the_document_is_valid_openapi_3_1(make_client):
    client = await make_client()
    response = await client.get("/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    document = await response.json()
    assert document["openapi"] == "3.1.0"
    errors = [error.message for error in OPENAPI_31_VALIDATOR.iter_errors(document)]
    assert errors == []


async def test_every_route_the_app_serves_is_documented(make_client):
    client = await make_client()
    document = await (await client.get("/openapi.json")).json()
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == routes_of(Settings())


async def test_the_request_bodies_are_the_request_models_schemas(make_client):
    client = await make_client()
    document = await (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert set(schemas["QueryRequest"]["properties"]) == set(QueryRequest.model_fields)
    assert "required" not in schemas["QueryRequest"]
    assert schemas["QueryRequest"]["anyOf"] == [
        {"required": ["query"]},
        {
            "required": ["tool_approvals"],
            "properties": {"tool_approvals": {"type": "array", "minItems": 1}},
        },
    ]
    assert schemas["QueryRequest"]["additionalProperties"] is False
    assert set(schemas["ChatCompletionRequest"]["properties"]) == set(
        ChatCompletionRequest.model_fields
    )
    body = document["paths"]["/v1/streaming_query"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/QueryRequest"
    }


def test_the_documented_non_blank_pattern_accepts_exactly_what_the_model_accepts():
    document = build_openapi(create_app(Settings()))
    query = document["components"]["schemas"]["QueryRequest"]["properties"]["query"]
    assert query["pattern"] == NON_BLANK
    disagree = []
    for code in range(0x10000):
        if 0xD800 <= code < 0xE000:
            continue
        try:
            QueryRequest(query=chr(code))
            accepted = True
        except ValidationError:
            accepted = False
        if accepted != (re.search(NON_BLANK, chr(code)) is not None):
            disagree.append(hex(code))
    assert disagree == []


async def test_the_format_parameter_enumerates_every_installed_name_and_alias(make_client):
    client = await make_client()
    document = await (await client.get("/openapi.json")).json()
    (parameter,) = document["paths"]["/v1/streaming_query"]["post"]["parameters"]
    registry = load_registry()
    expected = {name for info in registry.describe() for name in (info.name, *info.aliases)}
    assert parameter["name"] == "format"
    assert set(parameter["schema"]["enum"]) == expected
    assert {"patternfly", "lightspeed", "raw", "openai", "vercel"} <= expected
    assert parameter["schema"]["default"] == "patternfly"


async def test_the_streaming_route_answers_an_event_stream_and_errors_in_the_contract_shape(
    make_client,
):
    client = await make_client()
    document = await (await client.get("/openapi.json")).json()
    responses = document["paths"]["/v1/streaming_query"]["post"]["responses"]
    assert list(responses["200"]["content"]) == ["text/plain", "text/event-stream"]
    assert set(responses) == {
        "200", "400", "404", "408", "409", "413", "415", "422", "429", "503"
    }  # fmt: skip
    for status in ("400", "404", "408", "409", "413", "415", "422", "429", "503"):
        assert responses[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
    assert responses["429"]["headers"]["Retry-After"]["required"] is True
    error = document["components"]["schemas"]["ErrorBody"]
    detail = document["components"]["schemas"]["ErrorDetail"]
    assert error["required"] == ["detail"]
    assert detail["required"] == ["response", "cause"]


async def test_with_auth_on_the_api_routes_declare_bearer_security_and_401(make_client):
    client = await make_client(auth_mode="api-key", auth_api_keys="k1")
    document = await (await client.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    paths = document["paths"]
    for path, method in [
        ("/v1/streaming_query", "post"),
        ("/v1/formats", "get"),
        ("/v1/chat/completions", "post"),
        ("/v1/events/schema", "get"),
    ]:
        assert paths[path][method]["security"] == [{"bearer": []}]
        assert "WWW-Authenticate" in paths[path][method]["responses"]["401"]["headers"]
    for path in ("/liveness", "/readiness", "/metrics", "/", "/openapi.json"):
        assert "security" not in paths[path]["get"]
        assert "401" not in paths[path]["get"]["responses"]


async def test_without_auth_no_security_is_declared(make_client):
    client = await make_client()
    document = await (await client.get("/openapi.json")).json()
    assert "securitySchemes" not in document["components"]
    assert all(
        "security" not in operation and "401" not in operation["responses"]
        for item in document["paths"].values()
        for operation in item.values()
    )


# schemathesis against the service served as `python -m service` (the demo agent, no delay).


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    base: str
    log: Path


def _serve(log: Path, **settings: str) -> Iterator[Served]:
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in Settings.model_fields and key != "SERVICE_CONFIG"
    }
    env.update(LOG_FORMAT="json", LOG_LEVEL="info", DEMO_DELAY="0")
    env.update({name.upper(): value for name, value in settings.items()})
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/liveness", timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, log.read_text()
                time.sleep(0.1)
        yield Served(base, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


SECURED: dict[str, Any] = {
    "auth_mode": "api-key",
    "auth_api_keys": "schemathesis:st-key-1",
    "resume_window": "30",
}
"""The second run: API-key auth and resumable streams on."""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(tmp_path_factory.mktemp("served") / "service.log")


@pytest.fixture(scope="module")
def served_secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(tmp_path_factory.mktemp("secured") / "service.log", **SECURED)


# Built the way the route builds them: schemathesis needs a schema at import time (its
# fixture-based loader does not work on pytest 9); the tests below prove the live app serves it.
DOCUMENT = build_openapi(create_app(Settings()))
schema = schemathesis.openapi.from_dict(DOCUMENT)
SECURED_DOCUMENT = build_openapi(create_app(Settings(**SECURED)))
secured_schema = schemathesis.openapi.from_dict(SECURED_DOCUMENT)


def test_the_live_service_serves_the_document_schemathesis_runs(served: Served) -> None:
    with urllib.request.urlopen(f"{served.base}/openapi.json", timeout=10) as answer:
        assert json.load(answer) == DOCUMENT


def test_with_auth_and_resume_on_it_serves_that_document(served_secured: Served) -> None:
    with urllib.request.urlopen(f"{served_secured.base}/openapi.json", timeout=10) as answer:
        assert json.load(answer) == SECURED_DOCUMENT
    assert "securitySchemes" in SECURED_DOCUMENT["components"]
    streaming = SECURED_DOCUMENT["paths"]["/v1/streaming_query"]["post"]
    assert "X-Stream-ID" in streaming["responses"]["200"]["headers"]


@schemathesis.check
def no_traceback(ctx: Any, response: Any, case: Any) -> bool | None:
    """No body ever carries a Python traceback."""
    text = response.content.decode("utf-8", "replace")
    if "Traceback (most recent call last)" in text or 'File "' in text:
        raise AssertionError(f"a traceback in the body of {case.method} {case.path}")
    return None


SETTINGS = hypothesis.settings(
    max_examples=SCHEMATHESIS_EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
    database=None,
)


def call_and_validate(case: Any, served: Served, headers: dict[str, str] | None = None) -> None:
    excluded = []
    if case.operation.path in (
        "/v1/chat/completions",
        "/v1/responses",
        "/v1/messages",
        "/v1/ag-ui",
    ):
        # The models take every field OpenAI's, Anthropic's and AG-UI's have, so a client gets
        # a precise refusal for what an agent turn cannot do (tools, n > 1, a last message that
        # is not the user's...): valid by the schema, refused by design.
        excluded.append(positive_data_acceptance)
    if case.operation.path == "/a2a":
        # JSON-RPC answers every request it can read with HTTP 200, a refusal as its JSON-RPC
        # error (A2A's binding; a2a-sdk's client raises on any other status): both ways.
        excluded.extend((positive_data_acceptance, negative_data_rejection))
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        # A negative header case is one whose required Authorization is missing or wrong:
        # adding the valid one back would make schemathesis expect a refusal of a good request.
        headers = None
    case.call_and_validate(
        base_url=served.base,
        headers=headers,
        additional_checks=[no_traceback],
        excluded_checks=excluded,
        timeout=30,
    )


@schema.parametrize()
@SETTINGS
def test_schemathesis_finds_no_server_error_schema_violation_or_traceback(
    served: Served, case: Any
) -> None:
    call_and_validate(case, served)


@secured_schema.parametrize()
@SETTINGS
def test_schemathesis_finds_none_either_with_auth_and_resumable_streams_on(
    served_secured: Served, case: Any
) -> None:
    call_and_validate(case, served_secured, {"Authorization": "Bearer st-key-1"})


def test_the_service_logged_no_unhandled_error_under_schemathesis(
    served: Served, served_secured: Served
) -> None:
    for log in (served.log, served_secured.log):
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        assert lines, "the service logged nothing: the check would be empty"
        assert [line for line in lines if line["level"] in ("error", "critical")] == []
        assert "Traceback" not in log.read_text()


async def undeclared(request: Any) -> Any:
    raise AssertionError("never called")


def test_a_route_that_declares_nothing_stops_the_document_naming_it() -> None:
    app = create_app(Settings())
    app.router.add_post("/v1/undeclared", undeclared)
    with pytest.raises(UndeclaredRoute) as raised:
        build_openapi(app)
    assert str(raised.value) == (
        "POST /v1/undeclared (undeclared) declares nothing: "
        "decorate it with service.route_spec.declare(...)"
    )


class ShoutedError(BaseModel):
    """Another protocol's error body (a test's)."""

    error: str


def _shout(parts: ErrorParts) -> tuple[int, dict[str, Any]]:
    return (400 if parts.status in (415, 422) else parts.status), {"error": parts.cause.upper()}


async def shouted(request: Any) -> Any:
    raise AssertionError("never called")


def test_a_route_that_speaks_another_error_shape_documents_it_for_every_refusal() -> None:
    spoken = declare(
        "Answers errors in its own shape.",
        {200: Answer("Fine.", ShoutedError), 503: UNAVAILABLE},
        body=QueryRequest,
        errors=ErrorDialect(ShoutedError, _shout),
    )(shouted)
    app = create_app(Settings())
    app.router.add_post("/v1/shouted", spoken)
    responses = build_openapi(app)["paths"]["/v1/shouted"]["post"]["responses"]
    assert sorted(responses) == ["200", "400", "408", "413", "503"]
    assert {
        responses[status]["content"]["application/json"]["schema"]["$ref"] for status in responses
    } == {"#/components/schemas/ShoutedError"}
    assert responses["400"]["description"] == (
        "The body is not well framed (shorter than its Content-Length, bad chunks). "
        "The body is not JSON by its content type. "
        "Malformed JSON, missing or blank required fields, wrong types or unknown fields."
    )
