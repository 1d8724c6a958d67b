"""With auth on, a conversation belongs to the principal that started it, on every replica."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from fakes import agents_upstream, responses_upstream
from fakes.agents_upstream import FakeAgentsUpstream
from fakes.responses_upstream import FakeResponsesUpstream
from service.conversations.owners import owner_digest
from service.upstream.agents import SESSION_NAME
from service.upstream.responses import OWNER_METADATA_KEY
from tests.conftest import MakeClient, split_frames
from tests.service.redis_server import free_port

ALICE, BOB = "k-alice-3f9a0c1d2e4b5a69", "k-bob-0000aaaa1111bbbb"
KEYS = f"alice:{ALICE},bob:{BOB}"
NOT_FOUND = (
    b'{"detail": {"response": "Conversation not found", "cause": "No conversation of yours has '
    b'this id: unknown, or started by someone else."}}'
)
NOT_FOUND_OPENAI = (
    b'{"error": {"message": "Conversation not found: No conversation of yours has this id: '
    b'unknown, or started by someone else.", "type": "not_found_error", "param": null, '
    b'"code": "conversation_not_found"}}'
)
"""The same 404 on the route that speaks OpenAI's API, in OpenAI's error object."""
UNKNOWN = {
    "responses": "conv_" + "0" * 48,
    "agents": "session-unknown",
    "agents+redis": "session-unknown",
    "demo": "53f88110-dfb1-4bc7-9821-df7adee0a00b",
}
Client = TestClient[Any, Any]
AGENTS_REDIS = pytest.param("agents+redis", marks=pytest.mark.redis)
Restart = Callable[..., Awaitable[Client]]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def fake_responses() -> FakeResponsesUpstream:
    fake = FakeResponsesUpstream()
    fake.steps = responses_upstream.fixture_steps("text.sse")
    return fake


@pytest.fixture
async def responses_server(aiohttp_server: Any, fake_responses: FakeResponsesUpstream) -> Any:
    return await aiohttp_server(fake_responses.app())


@pytest.fixture(params=["responses", "agents", AGENTS_REDIS, "demo"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def service(
    kind: str,
    request: pytest.FixtureRequest,
    make_client: MakeClient,
    fake_agents: FakeAgentsUpstream,
    agents_server: TestServer,
) -> Restart:
    """Start a new instance of the service on `kind`'s upstream, API keys for alice and bob."""
    fake_agents.steps = agents_upstream.fixture_steps("text.sse")
    settings: dict[str, Any] = {"auth_mode": "api-key", "auth_api_keys": KEYS}
    if kind == "responses":
        server = request.getfixturevalue("responses_server")
        settings |= {"llama_stack_base_url": str(server.make_url("/"))}
    elif kind.startswith("agents"):
        settings |= {"llama_stack_base_url": str(agents_server.make_url("/"))}
        settings |= {"llama_stack_api": "agents"}
    if kind == "agents+redis":
        settings |= {"redis_url": request.getfixturevalue("redis_url")}

    async def start(**overrides: Any) -> Client:
        return await make_client(**{**settings, **overrides})

    return start


async def ask(client: Client, key: str | None, conversation_id: str | None = None) -> Any:
    """Send one streaming query; return the response, its body already read."""
    body: dict[str, Any] = {"query": "Say hello."}
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    headers = bearer(key) if key is not None else {}
    response = await client.post("/v1/streaming_query", json=body, headers=headers)
    await response.read()
    return response


async def started(client: Client, key: str | None, conversation_id: str | None = None) -> str:
    """Stream one turn to its end; return the conversation id of its `start` frame."""
    response = await ask(client, key, conversation_id)
    assert response.status == 200, await response.text()
    frames = split_frames(await response.read())
    assert json.loads(frames[-1][6:])["event"] == "end"
    return str(json.loads(frames[0][6:])["data"]["conversation_id"])


def upstream_turns(kind: str, request: pytest.FixtureRequest) -> int:
    """How many turns the upstream was asked for (none on the demo agent, which has no server)."""
    if kind == "responses":
        return len(request.getfixturevalue("fake_responses").requests)
    if kind.startswith("agents"):
        return len(request.getfixturevalue("fake_agents").turns)
    return 0


async def test_another_callers_conversation_is_the_same_404_as_an_unknown_one(
    service, kind, request
):
    client = await service()
    conversation_id = await started(client, ALICE)
    turns = upstream_turns(kind, request)
    foreign = await ask(client, BOB, conversation_id)
    unknown = await ask(client, BOB, UNKNOWN[kind])
    own_unknown = await ask(client, ALICE, UNKNOWN[kind])
    for refused in (foreign, unknown, own_unknown):
        assert refused.status == 404
        assert refused.headers["Content-Type"] == "application/json; charset=utf-8"
        assert await refused.read() == NOT_FOUND
    assert upstream_turns(kind, request) == turns


async def test_the_owner_continues_her_own_conversation(service, kind, request):
    client = await service()
    conversation_id = await started(client, ALICE)
    assert await started(client, ALICE, conversation_id) == conversation_id
    bobs = await started(client, BOB)
    assert bobs != conversation_id
    assert await started(client, BOB, bobs) == bobs
    if kind == "responses":
        fake: FakeResponsesUpstream = request.getfixturevalue("fake_responses")
        asked = [r["conversation"] for r in fake.requests]
        assert asked == [conversation_id, conversation_id, bobs, bobs]
    elif kind.startswith("agents"):
        fake_agents: FakeAgentsUpstream = request.getfixturevalue("fake_agents")
        asked = [turn["session_id"] for turn in fake_agents.turns]
        assert asked == [conversation_id, conversation_id, bobs, bobs]


@pytest.mark.parametrize("kind", ["responses", AGENTS_REDIS])
async def test_a_binding_survives_a_restart_and_holds_on_every_replica(service, kind):
    first = await service()
    conversation_id = await started(first, ALICE)
    restarted, replica = await service(), await service()
    assert await started(restarted, ALICE, conversation_id) == conversation_id
    foreign = await ask(replica, BOB, conversation_id)
    assert (foreign.status, await foreign.read()) == (404, NOT_FOUND)
    assert await started(replica, ALICE, conversation_id) == conversation_id


@pytest.mark.parametrize("kind", ["agents", "demo"])
async def test_without_redis_an_agents_binding_lives_in_its_process_only(service, kind):
    first = await service()
    conversation_id = await started(first, ALICE)
    restarted = await service()
    refused = await ask(restarted, ALICE, conversation_id)
    assert (refused.status, await refused.read()) == (404, NOT_FOUND)


@pytest.mark.parametrize("kind", ["responses"])
async def test_a_verified_binding_is_cached_but_never_for_another_caller(
    service, kind, fake_responses
):
    first = await service()
    conversation_id = await started(first, ALICE)
    assert fake_responses.retrievals == []  # its creator knows it without asking
    replica = await service()
    for _ in range(3):
        assert await started(replica, ALICE, conversation_id) == conversation_id
    assert fake_responses.retrievals == [conversation_id]
    for _ in range(2):
        assert (await ask(replica, BOB, conversation_id)).status == 404
    assert fake_responses.retrievals == [conversation_id] * 3


@pytest.mark.parametrize("kind", ["responses"])
async def test_the_owner_is_a_digest_in_the_conversation_metadata(service, kind, fake_responses):
    client = await service()
    conversation_id = await started(client, ALICE)
    digest = owner_digest("alice")
    assert fake_responses.metadata == {conversation_id: {OWNER_METADATA_KEY: digest}}
    assert len(digest) == 64
    assert "alice" not in digest


@pytest.mark.parametrize("kind", ["agents", AGENTS_REDIS])
async def test_the_agents_session_name_records_the_owner_digest(service, kind, fake_agents):
    client = await service()
    await started(client, ALICE)
    assert fake_agents.session_names == [f"{SESSION_NAME} owner:{owner_digest('alice')}"]


@pytest.mark.parametrize("kind", ["responses"])
async def test_a_conversation_from_before_the_upgrade_is_refused(service, kind, fake_responses):
    unbound = await service(auth_mode="none")
    conversation_id = await started(unbound, None)
    assert fake_responses.metadata == {conversation_id: None}
    client = await service()
    refused = await ask(client, ALICE, conversation_id)
    assert (refused.status, await refused.read()) == (404, NOT_FOUND)


@pytest.mark.parametrize("kind", ["responses", "agents", "demo"])
async def test_with_auth_off_an_unknown_id_still_starts_a_new_conversation(service, kind, request):
    client = await service(auth_mode="none")
    created = await started(client, None, UNKNOWN[kind])
    assert created != UNKNOWN[kind] or kind == "demo"  # the demo agent echoes any id it gets
    assert await started(client, None, created) == created
    if kind == "responses":
        fake: FakeResponsesUpstream = request.getfixturevalue("fake_responses")
        assert fake.metadata == {created: None}
        assert fake.retrievals == []
    elif kind == "agents":
        fake_agents: FakeAgentsUpstream = request.getfixturevalue("fake_agents")
        assert fake_agents.session_names == [SESSION_NAME]


@pytest.mark.parametrize("kind", ["responses", "agents"])
@pytest.mark.parametrize("stream", [True, False])
async def test_chat_completions_refuse_another_callers_conversation(service, kind, stream):
    client = await service()
    conversation_id = await started(client, ALICE)
    body = {
        "model": "fake-model",
        "messages": [{"role": "user", "content": "Go on."}],
        "stream": stream,
        "conversation_id": conversation_id,
    }
    foreign = await client.post("/v1/chat/completions", json=body, headers=bearer(BOB))
    assert (foreign.status, await foreign.read()) == (404, NOT_FOUND_OPENAI)
    own = await client.post("/v1/chat/completions", json=body, headers=bearer(ALICE))
    assert own.status == 200, await own.text()


@pytest.mark.parametrize("kind", ["agents"])
async def test_an_unreachable_binding_store_is_503_without_its_address(service, kind):
    port = free_port()
    client = await service(redis_url=f"redis://127.0.0.1:{port}/0")
    refused = await ask(client, ALICE)
    assert refused.status == 503
    assert await refused.json() == {
        "detail": {
            "response": "Unable to check the conversation",
            "cause": "The store of conversation owners does not answer; retry later.",
        }
    }
    assert str(port).encode() not in await refused.read()
