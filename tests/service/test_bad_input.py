"""Bad requests get a 4xx in the contract's JSON error shape, never a traceback."""

from __future__ import annotations

from typing import Any

import pytest


def assert_error_shape(body: dict[str, Any], response: str) -> str:
    assert set(body) == {"detail"}
    assert set(body["detail"]) == {"response", "cause"}
    assert body["detail"]["response"] == response
    assert "Traceback" not in body["detail"]["cause"]
    cause: str = body["detail"]["cause"]
    return cause


async def test_unknown_format_is_400_naming_the_known_ones(make_client):
    client = await make_client()
    response = await client.post("/v1/streaming_query?format=nope", json={"query": "hi"})
    assert response.status == 400
    cause = assert_error_shape(await response.json(), "Unknown format")
    assert cause.startswith(
        "'nope' is not an installed format; known: a2a, ag-ui, anthropic, lightspeed-0.1, "
        "lightspeed-0.2, lightspeed-0.3, lightspeed-0.4, lightspeed-0.7, openai, patternfly, raw, "
        "responses, vercel"
    )


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        (b"{not json", "body: Invalid JSON: key must be a string at line 1 column 2"),
        (b"", "body: Invalid JSON: EOF while parsing a value at line 1 column 0"),
        (b"{}", "query: Field required"),
        (b'{"query": ""}', "query: String should have at least 1 character"),
        (b'{"query": "   "}', "query: String should match pattern '\\S'"),
        (b'{"query": 42}', "query: Input should be a valid string"),
        (b'{"query": "hi", "no_tools": "yes"}', "no_tools: Input should be a valid boolean"),
        (b'{"query": "hi", "surprise": 1}', "surprise: Extra inputs are not permitted"),
        (b'["hi"]', "body: Input should be an object"),
        (
            b'{"query": "hi", "attachments": [{"content": "x"}]}',
            "attachments.0.attachment_type: Field required; "
            "attachments.0.content_type: Field required",
        ),
    ],
)
async def test_invalid_bodies_are_422(make_client, body, cause):
    client = await make_client()
    response = await client.post(
        "/v1/streaming_query", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 422
    assert assert_error_shape(await response.json(), "Invalid request") == cause


async def test_non_json_content_type_is_415(make_client):
    client = await make_client()
    response = await client.post("/v1/streaming_query", data={"query": "hi"})
    assert response.status == 415
    cause = assert_error_shape(await response.json(), "Unsupported media type")
    assert "application/x-www-form-urlencoded" in cause


async def test_body_over_the_limit_is_413(make_client):
    client = await make_client(max_body_bytes=64)
    response = await client.post("/v1/streaming_query", json={"query": "x" * 100})
    assert response.status == 413
    assert_error_shape(await response.json(), "Request Entity Too Large")


async def test_unknown_route_is_404_json(make_client):
    client = await make_client()
    response = await client.get("/v1/nothing")
    assert response.status == 404
    assert_error_shape(await response.json(), "Not Found")


async def test_wrong_method_is_405_json_with_allow(make_client):
    client = await make_client()
    response = await client.get("/v1/streaming_query")
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert_error_shape(await response.json(), "Method Not Allowed")
