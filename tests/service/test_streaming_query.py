"""`POST /v1/streaming_query` end to end: a real aiohttp server in front of a fake Agents upstream."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
from structlog.testing import capture_logs

from fakes.agents_upstream import Drop, Sleep, Status, fixture_steps
from service.http.app import create_app
from service.settings import Settings
from tests.conftest import split_frames

END_EMPTY = (
    'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, '
    '"input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
)
QUERY = {"query": "Say hello."}
LIGHTSPEED_01 = "/v1/streaming_query?format=lightspeed-0.1"
"""Where a test pins lightspeed-stack 0.1.3's bytes (the default `patternfly` was them until it
became our own dialect)."""


def events_of(frames: list[str]) -> list[str]:
    return [json.loads(frame.removeprefix("data: "))["event"] for frame in frames]


async def test_text_turn_streams_lightspeed_frames_byte_for_byte(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    response = await client.post(LIGHTSPEED_01, json=QUERY)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "Content-Encoding" not in response.headers
    frames = split_frames(await response.read())
    session = fake_agents.sessions[0]
    assert (
        frames[0] == f'data: {{"event": "start", "data": {{"conversation_id": "{session}"}}}}\n\n'
    )
    assert (
        frames[1]
        == 'data: {"event": "token", "data": {"id": 0, "role": "inference", "token": ""}}\n\n'
    )
    assert frames[2] == (
        'data: {"event": "token", "data": {"id": 1, "role": "inference", "token": "Hello "}}\n\n'
    )
    assert frames[3] == (
        'data: {"event": "token", "data": {"id": 2, "role": "inference", "token": "from "}}\n\n'
    )
    assert frames[-2] == (
        'data: {"event": "turn_complete", "data": {"id": 11, "token": '
        '"Hello from the fake model. This is a scripted answer."}}\n\n'
    )
    assert frames[-1] == END_EMPTY
    assert len(frames) == 14


async def test_turn_request_carries_the_query_and_agent_config(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(agent_toolgroups="builtin::rag", agent_input_shields="llama-guard")
    body = {"query": "What is OpenShift?", "system_prompt": "Be brief.", "no_tools": True}
    response = await client.post("/v1/streaming_query", json=body)
    await response.read()
    (agent,) = fake_agents.agents
    assert agent["agent_config"]["model"] == "vllm/fake-model"
    assert agent["agent_config"]["instructions"] == "Be brief."
    assert agent["agent_config"]["toolgroups"] == []
    assert agent["agent_config"]["input_shields"] == ["llama-guard"]
    assert fake_agents.turns[0]["body"] == {
        "messages": [{"role": "user", "content": "What is OpenShift?"}],
        "stream": True,
    }


async def test_conversation_id_continues_the_same_session(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    first = split_frames(await (await client.post("/v1/streaming_query", json=QUERY)).read())
    conversation_id = json.loads(first[0].removeprefix("data: "))["data"]["conversation_id"]
    body = {"query": "And again?", "conversation_id": conversation_id}
    second = split_frames(await (await client.post("/v1/streaming_query", json=body)).read())
    assert second[0] == first[0]
    assert [turn["session_id"] for turn in fake_agents.turns] == [conversation_id] * 2
    assert len(fake_agents.sessions) == 1
    assert len(fake_agents.agents) == 1


async def test_unknown_conversation_id_starts_a_new_conversation(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    body = {"query": "Hi", "conversation_id": "gone-after-restart"}
    frames = split_frames(await (await client.post("/v1/streaming_query", json=body)).read())
    assert json.loads(frames[0][6:])["data"]["conversation_id"] == fake_agents.sessions[0]


async def test_error_chunk_gives_error_frame_then_end(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("fail.sse")
    client = await agents_client()
    frames = split_frames(await (await client.post(LIGHTSPEED_01, json=QUERY)).read())
    assert events_of(frames) == ["start", "token", "error", "end"]
    assert frames[2] == (
        'data: {"event": "error", "data": {"id": 1, "token": '
        '"500: Internal server error: An unexpected error occurred."}}\n\n'
    )
    assert frames[3] == END_EMPTY


async def test_upstream_dropping_mid_stream_gives_error_frame_then_end(agents_client, fake_agents):
    fake_agents.steps = [*fixture_steps("text.sse")[:4], b'data: {"event": {"pay', Drop()]
    client = await agents_client()
    frames = split_frames(await (await client.post(LIGHTSPEED_01, json=QUERY)).read())
    assert events_of(frames) == ["start", "token", "token", "token", "token", "error", "end"]
    assert json.loads(frames[-2][6:])["data"]["token"] == (
        "The connection to the agent was lost before the answer was complete."
    )
    assert frames[-1] == END_EMPTY


async def test_a_body_ending_before_turn_complete_is_an_upstream_error(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")[:-1]  # every chunk but `turn_complete`
    client = await agents_client()
    with capture_logs() as logs:
        frames = split_frames(await (await client.post(LIGHTSPEED_01, json=QUERY)).read())
    assert events_of(frames) == ["start", *["token"] * 11, "error", "end"]
    assert frames[-2] == (
        'data: {"event": "error", "data": {"id": 11, "token": '
        '"The agent\'s stream ended before the answer was complete.", '
        '"response": "The answer was cut short", '
        '"cause": "The agent\'s stream ended before the answer was complete."}}\n\n'
    )
    assert frames[-1] == END_EMPTY
    assert [e["outcome"] for e in logs if e["event"] == "stream end"] == ["upstream_error"]


async def test_upstream_error_status_before_the_stream_is_503_json(agents_client, fake_agents):
    fake_agents.steps = [Status(500)]
    client = await agents_client()
    response = await client.post("/v1/streaming_query", json=QUERY)
    assert response.status == 503
    body = await response.json()
    assert body["detail"]["response"] == "Unable to connect to Llama Stack"
    assert "HTTP 500" in body["detail"]["cause"]


async def test_refused_upstream_connection_is_503_json(make_client, unused_tcp_port):
    client = await make_client(
        llama_stack_base_url=f"http://127.0.0.1:{unused_tcp_port}", llama_stack_api="agents"
    )
    response = await client.post("/v1/streaming_query", json=QUERY)
    assert response.status == 503
    body = await response.json()
    assert body["detail"]["cause"].startswith("llama-stack is unreachable: ")


async def test_heartbeats_keep_flowing_through_a_long_upstream_silence(agents_client, fake_agents):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:3], Sleep(8), *steps[3:]]
    client = await agents_client(heartbeat_interval=1.0)
    frames = split_frames(await (await client.post(LIGHTSPEED_01, json=QUERY)).read())
    names = events_of(frames)
    assert names.count("heartbeat") >= 5
    assert names[-2:] == ["turn_complete", "end"]
    first_heartbeat = names.index("heartbeat")
    assert frames[first_heartbeat] == (
        'data: {"event": "heartbeat", "data": {"id": 3, "token": "heartbeat"}}\n\n'
    )
    assert names[first_heartbeat - 1] == "token"


async def test_client_disconnect_during_silence_cancels_upstream_within_one_interval(
    fake_agents, agents_server, serve_like_production
):
    # aiohttp's test server cancels handlers on disconnect; production's does not, so the
    # heartbeat write must be what notices: run the service the way production runs it.
    interval = 1.0
    fake_agents.steps = [*fixture_steps("text.sse")[:3], Sleep(60)]
    settings = Settings(
        llama_stack_base_url=str(agents_server.make_url("/")),
        llama_stack_api="agents",
        heartbeat_interval=interval,
    )
    base = await serve_like_production(create_app(settings))
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{base}/v1/streaming_query", json=QUERY)
        await response.content.readuntil(b"\n\n")
        await asyncio.wait_for(fake_agents.turn_started.wait(), 5)
        await asyncio.sleep(0.2)
        response.close()
        closed_at = time.monotonic()
        await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
    assert fake_agents.end_reason == "cancelled"
    assert fake_agents.ended_at is not None
    assert fake_agents.ended_at - closed_at < interval + 0.3


async def test_stream_timeout_ends_with_error_then_end(agents_client, fake_agents):
    fake_agents.steps = [*fixture_steps("text.sse")[:3], Sleep(30)]
    client = await agents_client(heartbeat_interval=0.5, stream_timeout=1.6)
    frames = split_frames(await (await client.post("/v1/streaming_query", json=QUERY)).read())
    names = events_of(frames)
    assert names[:3] == ["start", "token", "token"]
    assert names[-2:] == ["error", "end"]
    assert json.loads(frames[-2][6:])["data"]["token"] == (
        "The answer took longer than the 1.6 s this service allows."
    )
    await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
    assert fake_agents.end_reason == "cancelled"


async def test_lightspeed_alias_selects_the_patternfly_format(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    response = await client.post("/v1/streaming_query?format=lightspeed", json=QUERY)
    frames = split_frames(await response.read())
    assert frames[-1] == END_EMPTY


async def test_request_id_is_echoed_on_streams(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    headers = {"X-Request-ID": "req-42"}
    response = await client.post("/v1/streaming_query", json=QUERY, headers=headers)
    await response.read()
    assert response.headers["X-Request-ID"] == "req-42"


async def test_a_generated_request_id_replaces_an_unsafe_one(make_client):
    client = await make_client()
    response = await client.get("/liveness", headers={"X-Request-ID": "bad id\twith tab"})
    assert len(response.headers["X-Request-ID"]) == 32


async def test_too_many_concurrent_streams_get_429_with_retry_after(agents_client, fake_agents):
    fake_agents.steps = [*fixture_steps("text.sse")[:2], Sleep(30)]
    client = await agents_client(max_concurrent_streams=1)
    first = await client.post("/v1/streaming_query", json=QUERY)
    await first.content.readuntil(b"\n\n")
    second = await client.post("/v1/streaming_query", json=QUERY)
    assert second.status == 429
    assert second.headers["Retry-After"] == "1"
    assert (await second.json())["detail"]["response"] == "Too many streams"
    first.close()


async def test_demo_agent_streams_every_frame_type(make_client):
    client = await make_client()
    response = await client.post(LIGHTSPEED_01, json={"query": "What is this?"})
    frames = split_frames(await response.read())
    names = events_of(frames)
    assert names[0] == "start"
    assert names[-2:] == ["turn_complete", "end"]
    assert {"token", "tool_call"} <= set(names)
    roles = {json.loads(f[6:])["data"].get("role") for f in frames}
    assert {"shield_call", "inference", "tool_execution"} <= roles
    tokens = [json.loads(f[6:])["data"].get("token") for f in frames]
    assert "Tool:knowledge_search arguments:{'query': 'What is this?'}" in tokens
    assert "Tool:knowledge_search summary:knowledge_search tool found 2 chunks:" in tokens
    end = json.loads(frames[-1][6:])["data"]
    assert [d["doc_title"] for d in end["referenced_documents"]] == [
        "What agent-stream-gateway does",
        "Stream formats",
    ]


async def test_client_reads_with_a_real_sse_parser(make_client):
    client = await make_client()
    response = await client.post("/v1/streaming_query", json={"query": "hi"})
    data = [
        json.loads(line[6:]) async for line in _lines(response.content) if line.startswith("data: ")
    ]
    assert data[0]["event"] == "start"
    assert data[-1]["event"] == "end"


async def _lines(content: aiohttp.StreamReader) -> Any:
    async for raw in content:
        yield raw.decode().rstrip("\n")


async def test_vector_db_ids_make_the_rag_tool_search_them(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(
        agent_toolgroups="builtin::rag,mcp::fake", agent_vector_db_ids="vs_1,vs_2"
    )
    await (await client.post("/v1/streaming_query", json=QUERY)).read()
    assert fake_agents.agents[0]["agent_config"]["toolgroups"] == [
        {"name": "builtin::rag/knowledge_search", "args": {"vector_db_ids": ["vs_1", "vs_2"]}},
        "mcp::fake",
    ]


async def test_rag_without_vector_dbs_is_left_out_with_a_warning(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(agent_toolgroups="builtin::rag")
    with capture_logs() as logs:
        await (await client.post("/v1/streaming_query", json=QUERY)).read()
    assert fake_agents.agents[0]["agent_config"]["toolgroups"] == []
    assert "builtin::rag needs AGENT_VECTOR_DB_IDS to search anything; left out" in [
        entry["event"] for entry in logs
    ]
