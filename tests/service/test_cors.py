"""CORS (service/http/cors.py): allowed origins get preflights and readable headers, others nothing."""

from __future__ import annotations

from fakes.agents_upstream import fixture_steps

ALLOWED = "https://chat.example.com"
OTHER = "https://evil.example.net"
QUERY = {"query": "Say hello."}
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,authorization,last-event-id",
}


def cors_headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


async def test_a_preflight_from_an_allowed_origin_allows_json_posts_with_auth_and_resume(
    agents_client,
):
    client = await agents_client(cors_allow_origins=f"{ALLOWED}, https://other.example.org")
    response = await client.options("/v1/streaming_query", headers={"Origin": ALLOWED, **PREFLIGHT})
    assert response.status == 200
    headers = cors_headers(response)
    assert headers["Access-Control-Allow-Origin"] == ALLOWED
    assert headers["Access-Control-Allow-Methods"] == "POST"
    allowed = {name.strip().lower() for name in headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"content-type", "authorization", "last-event-id"}
    assert headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in headers


async def test_an_actual_stream_from_an_allowed_origin_exposes_the_stream_and_request_ids(
    agents_client, fake_agents
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(cors_allow_origins=ALLOWED, resume_window=30)
    response = await client.post("/v1/streaming_query", json=QUERY, headers={"Origin": ALLOWED})
    await response.read()
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    exposed = {
        name.strip() for name in response.headers["Access-Control-Expose-Headers"].split(",")
    }
    assert exposed == {"X-Stream-ID", "X-Request-ID"}
    assert response.headers["X-Stream-ID"]
    resumed = await client.get(
        f"/v1/streams/{response.headers['X-Stream-ID']}", headers={"Origin": ALLOWED}
    )
    await resumed.read()
    assert resumed.headers["Access-Control-Allow-Origin"] == ALLOWED


async def test_a_disallowed_origin_gets_no_cors_headers(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(cors_allow_origins=ALLOWED)
    preflight = await client.options("/v1/streaming_query", headers={"Origin": OTHER, **PREFLIGHT})
    assert preflight.status == 403
    assert cors_headers(preflight) == {}
    actual = await client.post("/v1/streaming_query", json=QUERY, headers={"Origin": OTHER})
    await actual.read()
    assert actual.status == 200
    assert cors_headers(actual) == {}


async def test_a_preflight_asking_for_another_header_is_refused(agents_client):
    client = await agents_client(cors_allow_origins=ALLOWED)
    headers = {"Origin": ALLOWED, **PREFLIGHT, "Access-Control-Request-Headers": "x-secret"}
    response = await client.options("/v1/streaming_query", headers=headers)
    assert response.status == 403
    assert cors_headers(response) == {}


async def test_without_allowed_origins_there_is_no_cors_at_all(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    preflight = await client.options(
        "/v1/streaming_query", headers={"Origin": ALLOWED, **PREFLIGHT}
    )
    assert preflight.status == 405
    assert cors_headers(preflight) == {}
    actual = await client.post("/v1/streaming_query", json=QUERY, headers={"Origin": ALLOWED})
    await actual.read()
    assert cors_headers(actual) == {}


async def test_with_auth_on_the_preflight_needs_no_token_and_a_refusal_is_readable(agents_client):
    client = await agents_client(
        cors_allow_origins=ALLOWED, auth_mode="api-key", auth_api_keys="alice:key-a"
    )
    preflight = await client.options(
        "/v1/streaming_query", headers={"Origin": ALLOWED, **PREFLIGHT}
    )
    assert preflight.status == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == ALLOWED
    refused = await client.post("/v1/streaming_query", json=QUERY, headers={"Origin": ALLOWED})
    assert refused.status == 401
    assert refused.headers["Access-Control-Allow-Origin"] == ALLOWED


async def test_other_routes_answer_cors_too(agents_client):
    client = await agents_client(cors_allow_origins=ALLOWED)
    response = await client.get("/v1/formats", headers={"Origin": ALLOWED})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    preflight = await client.options(
        "/v1/streaming_query/interrupt", headers={"Origin": ALLOWED, **PREFLIGHT}
    )
    assert preflight.status == 200
