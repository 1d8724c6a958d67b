"""`GET /v1/formats`, `/liveness` and `/readiness`."""

from __future__ import annotations


async def test_formats_lists_every_installed_format(make_client):
    client = await make_client()
    response = await client.get("/v1/formats")
    assert response.status == 200
    builtins = (await response.json())[:13]  # built-ins first; installed plugins follow
    assert builtins == [
        {
            "name": "a2a",
            "aliases": [],
            "media_type": "text/event-stream",
            "description": (
                "A2A 1.0 SendStreamingMessage results (JSON-RPC): the task, status updates, the "
                "answer as artifact chunks, then a completed or failed status"
            ),
        },
        {
            "name": "ag-ui",
            "aliases": ["agui"],
            "media_type": "text/event-stream",
            "description": (
                "AG-UI protocol events (CopilotKit): RUN_STARTED, TEXT_MESSAGE_*, TOOL_CALL_*, "
                "RUN_FINISHED or RUN_ERROR"
            ),
        },
        {
            "name": "anthropic",
            "aliases": ["anthropic-messages"],
            "media_type": "text/event-stream",
            "description": (
                "Anthropic Messages stream events: message_start … message_stop, ping "
                "keep-alives (Anthropic SDKs)"
            ),
        },
        {
            "name": "lightspeed-0.1",
            "aliases": [],
            "media_type": "text/event-stream",
            "description": "lightspeed-stack 0.1.x /v1/streaming_query frames, byte for byte",
        },
        {
            "name": "lightspeed-0.2",
            "aliases": [],
            "media_type": "text/event-stream",
            "description": "lightspeed-stack 0.2.x /v1/streaming_query frames, byte for byte",
        },
        {
            "name": "lightspeed-0.3",
            "aliases": [],
            "media_type": "text/event-stream",
            "description": "lightspeed-stack 0.3.x /v1/streaming_query frames, byte for byte",
        },
        {
            "name": "lightspeed-0.4",
            "aliases": [],
            "media_type": "text/event-stream",
            "description": "lightspeed-stack 0.4.x /v1/streaming_query frames, byte for byte",
        },
        {
            "name": "lightspeed-0.7",
            "aliases": [],
            "media_type": "text/event-stream",
            "description": "lightspeed-stack 0.7.x /v1/streaming_query frames, byte for byte",
        },
        {
            "name": "openai",
            "aliases": ["chat-completions"],
            "media_type": "text/event-stream",
            "description": "OpenAI chat.completion.chunk frames, then data: [DONE] (OpenAI SDKs)",
        },
        {
            "name": "patternfly",
            "aliases": ["lightspeed"],
            "media_type": "text/event-stream",
            "description": "lightspeed-shaped frames for PatternFly chatbot frontends (Ansible, reference UI)",
        },
        {
            "name": "raw",
            "aliases": ["events"],
            "media_type": "text/event-stream",
            "description": (
                "The normalized events as SSE: event: <type> (error: turn_error), "
                "id: <sequence>, data: <JSON>"
            ),
        },
        {
            "name": "responses",
            "aliases": ["openai-responses"],
            "media_type": "text/event-stream",
            "description": (
                "OpenAI Responses API events, response.created to response.completed (OpenAI "
                "SDKs' responses.stream); the agent's tools as server-side items"
            ),
        },
        {
            "name": "vercel",
            "aliases": ["ai-sdk"],
            "media_type": "text/event-stream",
            "description": "Vercel AI SDK UI message stream protocol v1 (useChat)",
        },
    ]


async def test_liveness_never_asks_the_upstream(make_client, unused_tcp_port):
    client = await make_client(
        llama_stack_base_url=f"http://127.0.0.1:{unused_tcp_port}", llama_stack_api="agents"
    )
    response = await client.get("/liveness")
    assert response.status == 200
    assert await response.json() == {"alive": True}


async def test_readiness_on_the_demo_agent_is_ready(make_client):
    client = await make_client()
    response = await client.get("/readiness")
    assert (response.status, await response.json()) == (200, {"ready": True})


async def test_readiness_follows_the_upstream_health(agents_client, fake_agents):
    client = await agents_client(readiness_cache_seconds=0)
    assert (await client.get("/readiness")).status == 200
    fake_agents.health_status = 500
    response = await client.get("/readiness")
    assert response.status == 503
    body = await response.json()
    assert body["ready"] is False
    assert body["reason"].startswith("llama-stack answered HTTP 500")


async def test_readiness_answer_is_cached_briefly(agents_client, fake_agents):
    client = await agents_client(readiness_cache_seconds=60)
    assert (await client.get("/readiness")).status == 200
    fake_agents.health_status = 500
    assert (await client.get("/readiness")).status == 200


async def test_readiness_explains_a_version_mismatch(agents_client, fake_agents):
    fake_agents.health_status = 426
    client = await agents_client()
    body = await (await client.get("/readiness")).json()
    assert body["reason"].startswith(
        "llama-stack refused this client's version (HTTP 426): the client's major.minor "
        "must match the server's."
    )


async def test_readiness_when_the_upstream_is_down(make_client, unused_tcp_port):
    client = await make_client(
        llama_stack_base_url=f"http://127.0.0.1:{unused_tcp_port}", llama_stack_api="agents"
    )
    response = await client.get("/readiness")
    assert response.status == 503
    assert (await response.json())["reason"].startswith("llama-stack is unreachable: ")
