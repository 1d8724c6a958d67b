"""`POST /a2a` and the agent card: A2A 1.0's JSON-RPC on the wire, its errors, callers' tasks."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from a2a.client.card_resolver import parse_agent_card
from a2a.types import StreamResponse, Task
from google.protobuf import json_format

import service.http.a2a_routes
from fakes.agents_upstream import Sleep, Status, fixture_steps
from service.keys import ACTIVE_STREAMS
from tests.conftest import split_frames

URL = "/a2a"
TASK_ID = "task-fixed-0000000000"
ALICE, BOB = "k-alice-3f9a0c1d2e4b5a69", "k-bob-0000aaaa1111bbbb"
TEXT_ANSWER = "Hello from the fake model. This is a scripted answer."


def rpc(method: str, params: Any, rpc_id: Any = 7) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rpc_id, "method": method, "params": params}


def send(text: str = "Say hello.", **message: Any) -> dict[str, Any]:
    parts = message.pop("parts", [{"text": text}])
    return {"message": {"messageId": "m-1", "role": "ROLE_USER", "parts": parts, **message}}


@pytest.fixture
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """The task id is the same on every turn."""
    monkeypatch.setattr(service.http.a2a_routes, "new_stream_id", lambda: TASK_ID)


def results(body: bytes) -> list[dict[str, Any]]:
    """The JSON-RPC responses of an SSE body, each result checked by a2a-sdk's own type."""
    responses = []
    for frame in split_frames(body):
        lines = [line for line in frame.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        (data,) = [line[6:] for line in lines if line.startswith("data: ")]
        response = json.loads(data)
        json_format.ParseDict(response["result"], StreamResponse())  # strict: no unknown field
        responses.append(response)
    return responses


def status(state: str, **extra: Any) -> dict[str, Any]:
    update = {"taskId": TASK_ID, "contextId": "ctx-1", "status": {"state": state, **extra}}
    return {"jsonrpc": "2.0", "id": 7, "result": {"statusUpdate": update}}


def chunk(text: str, *, append: bool = True) -> dict[str, Any]:
    artifact = {"artifactId": "answer", "name": "answer", "parts": [{"text": text}]}
    update: dict[str, Any] = {"taskId": TASK_ID, "contextId": "ctx-1", "artifact": artifact}
    if append:
        update["append"] = True
    return {"jsonrpc": "2.0", "id": 7, "result": {"artifactUpdate": update}}


async def test_send_streaming_message_sends_the_task_its_answer_chunks_and_its_end(
    agents_client, fake_agents, fixed_ids
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    response = await client.post(URL, json=rpc("SendStreamingMessage", send(contextId="ctx-1")))
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    sent = results(await response.read())
    task = {"id": TASK_ID, "contextId": "ctx-1", "status": {"state": "TASK_STATE_SUBMITTED"}}
    words = TEXT_ANSWER.split(" ")
    end = status("TASK_STATE_COMPLETED")
    end["result"]["statusUpdate"]["metadata"] = {
        "usage": {"inputTokens": 0, "outputTokens": 0},
        "referencedDocuments": [],
    }
    assert sent[:3] == [
        {"jsonrpc": "2.0", "id": 7, "result": {"task": task}},
        status("TASK_STATE_WORKING"),
        chunk(words[0] + " ", append=False),
    ]
    assert sent[-1] == end
    text = "".join(
        part["text"]
        for r in sent
        if "artifactUpdate" in r["result"]
        for part in r["result"]["artifactUpdate"]["artifact"]["parts"]
    )
    assert text == TEXT_ANSWER


async def test_send_message_answers_the_finished_task_with_its_answer_as_one_artifact(
    agents_client, fake_agents, fixed_ids
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    response = await client.post(URL, json=rpc("SendMessage", send(contextId="ctx-1")))
    body = await response.json()
    json_format.ParseDict(body["result"]["task"], Task())
    assert body == {
        "jsonrpc": "2.0",
        "id": 7,
        "result": {
            "task": {
                "id": TASK_ID,
                "contextId": "ctx-1",
                "status": {"state": "TASK_STATE_COMPLETED"},
                "artifacts": [
                    {"artifactId": "answer", "name": "answer", "parts": [{"text": TEXT_ANSWER}]}
                ],
                "metadata": {
                    "usage": {"inputTokens": 0, "outputTokens": 0},
                    "referencedDocuments": [],
                },
            }
        },
    }


async def test_a_failing_upstream_is_a_failed_status_with_its_message_and_nothing_after(
    agents_client, fake_agents, fixed_ids
):
    fake_agents.steps = fixture_steps("fail-mid.sse")
    client = await agents_client()
    response = await client.post(URL, json=rpc("SendStreamingMessage", send(contextId="ctx-1")))
    sent = results(await response.read())
    message = {
        "messageId": f"{TASK_ID}-1",
        "taskId": TASK_ID,
        "contextId": "ctx-1",
        "role": "ROLE_AGENT",
        "parts": [{"text": "500: Internal server error: An unexpected error occurred."}],
    }
    failed = status("TASK_STATE_FAILED", message=message)
    failed["result"]["statusUpdate"]["metadata"] = {"code": "upstream_error"}
    assert sent[-1] == failed
    assert [r for r in sent if "statusUpdate" in r["result"]][-2:] == [
        status("TASK_STATE_WORKING"),
        failed,
    ]


def error(code: int, message: str, reason: str, rpc_id: Any = 7, **metadata: str) -> Any:
    info = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "a2a-protocol.org",
        "metadata": metadata,
    }
    return {
        "jsonrpc": "2.0",
        "id": rpc_id,
        "error": {"code": code, "message": message, "data": [info]},
    }


BAD_REQUESTS = [
    pytest.param(b"{nope", -32700, None, id="not-json"),
    pytest.param(b"[]", -32600, None, id="a-batch"),
    pytest.param({"jsonrpc": "1.0", "id": 7, "method": "GetTask"}, -32600, 7, id="jsonrpc-1.0"),
    pytest.param({"jsonrpc": "2.0", "id": 7}, -32600, 7, id="no-method"),
    pytest.param({"jsonrpc": "2.0", "id": True, "method": "GetTask"}, -32600, None, id="bool-id"),
    pytest.param(rpc("message/send", {}), -32601, 7, id="a2a-0.3-method"),
    pytest.param(rpc("Nope", {}), -32601, 7, id="unknown-method"),
    pytest.param(rpc("SendMessage", {}), -32602, 7, id="no-message"),
    pytest.param(rpc("SendMessage", send(parts=[])), -32602, 7, id="no-parts"),
    pytest.param(rpc("SendMessage", send("  ")), -32602, 7, id="blank-text"),
    pytest.param(rpc("SendMessage", send(role="ROLE_AGENT")), -32602, 7, id="agent-role"),
    pytest.param(rpc("SendMessage", send(parts=[{"data": {"a": 1}}])), -32005, 7, id="data-part"),
    pytest.param(rpc("SendMessage", send(parts=[{"text": "a", "url": "b"}])), -32602, 7, id="two"),
    pytest.param(rpc("GetTask", {}), -32602, 7, id="get-no-id"),
    pytest.param(rpc("GetTask", {"id": "x" * 22}), -32001, 7, id="get-unknown"),
    pytest.param(rpc("SubscribeToTask", {"id": "x" * 22}), -32001, 7, id="subscribe-unknown"),
    pytest.param(rpc("CancelTask", {"id": "x" * 22}), -32001, 7, id="cancel-unknown"),
    pytest.param(
        rpc("SendMessage", send(taskId="x" * 22)), -32001, 7, id="message-of-unknown-task"
    ),
]


@pytest.mark.parametrize(("body", "code", "rpc_id"), BAD_REQUESTS)
async def test_bad_input_is_its_json_rpc_error_with_a2a_s_code_on_http_200(
    agents_client, fake_agents, body, code, rpc_id
):
    client = await agents_client(resume_window=5.0)
    if isinstance(body, bytes):
        response = await client.post(URL, data=body, headers={"Content-Type": "application/json"})
    else:
        response = await client.post(URL, json=body)
    assert response.status == 200
    answer = await response.json()
    assert (answer["jsonrpc"], answer["id"], answer["error"]["code"]) == ("2.0", rpc_id, code)
    assert answer["error"]["data"][0]["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert fake_agents.turns == []


async def test_the_errors_say_what_was_wrong(agents_client):
    client = await agents_client()
    bad_json = await client.post(URL, data=b"{nope")
    assert await bad_json.json() == error(
        -32700,
        "Invalid JSON payload: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
        "PARSE_ERROR",
        rpc_id=None,
    )
    unknown = await client.post(URL, json=rpc("tasks/get", {"id": "t"}))
    assert await unknown.json() == error(-32601, "Method not found: tasks/get", "METHOD_NOT_FOUND")
    image = await client.post(
        URL, json=rpc("SendMessage", send(parts=[{"url": "https://x/a.png"}]))
    )
    assert await image.json() == error(
        -32005,
        "message.parts[0]: only text parts are supported, not url",
        "CONTENT_TYPE_NOT_SUPPORTED",
    )
    old = await client.post(URL, json=rpc("GetTask", {"id": "t"}), headers={"A2A-Version": "0.3"})
    assert await old.json() == error(
        -32009,
        "A2A version 0.3 is not supported; this agent speaks 1.0",
        "VERSION_NOT_SUPPORTED",
    )
    no_store = await client.post(URL, json=rpc("GetTask", {"id": "t"}))
    assert await no_store.json() == error(
        -32001, "No task has the id 't': tasks are kept only with resume", "TASK_NOT_FOUND"
    )


async def test_draining_full_or_an_upstream_that_cannot_start_are_internal_errors(
    agents_client, fake_agents
):
    client = await agents_client(max_concurrent_streams=1)
    active = client.server.app[ACTIVE_STREAMS]
    active.draining = True
    draining = await client.post(URL, json=rpc("SendStreamingMessage", send()))
    assert (draining.status, await draining.json()) == (
        200,
        error(
            -32603,
            "Draining: This instance is shutting down; retry on another.",
            "INTERNAL_ERROR",
            status="503",
        ),
    )
    active.draining = False
    active.opened()
    full = await client.post(URL, json=rpc("SendMessage", send()))
    assert (full.status, full.headers["Retry-After"]) == (200, "1")
    assert (await full.json())["error"]["message"] == (
        "Too many streams: This instance serves at most 1 streams at once."
    )
    active.closed()
    fake_agents.steps = [Status(500)]
    for method in ("SendStreamingMessage", "SendMessage"):
        refused = await client.post(URL, json=rpc(method, send()))
        answer = await refused.json()
        assert (refused.status, answer["error"]["code"]) == (200, -32603), method
        assert answer["error"]["message"].startswith("Unable to connect to Llama Stack: ")
    assert active.count == 0


async def test_the_agent_card_names_the_endpoint_by_the_request_s_origin_or_the_setting(
    agents_client,
):
    client = await agents_client(auth_mode="api-key", auth_api_keys=f"alice:{ALICE}")
    response = await client.get("/.well-known/agent-card.json")
    card = await response.json()
    origin = str(client.make_url("")).rstrip("/")
    assert card["supportedInterfaces"] == [
        {"url": f"{origin}/a2a", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
    ]
    assert card["capabilities"] == {"streaming": True, "pushNotifications": False}
    assert (card["securitySchemes"], card["securityRequirements"]) == (
        {"bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer"}}},
        [{"schemes": {"bearer": {"list": []}}}],
    )
    parsed = parse_agent_card(card)
    assert (parsed.name, parsed.skills[0].id) == ("agent-stream-gateway", "agent-turn")
    assert parsed.security_schemes["bearer"].http_auth_security_scheme.scheme == "Bearer"
    behind = await client.get(
        "/.well-known/agent-card.json", headers={"Host": "agents.example.com:8443"}
    )
    assert (await behind.json())["supportedInterfaces"][0]["url"] == (
        "http://agents.example.com:8443/a2a"
    )
    configured = await agents_client(a2a_public_url="https://gw.example.com/")
    card = await (await configured.get("/.well-known/agent-card.json")).json()
    assert card["supportedInterfaces"][0]["url"] == "https://gw.example.com/a2a"
    assert "securitySchemes" not in card, "auth is off"


async def test_the_stream_keeps_alive_with_sse_comments_while_the_upstream_is_silent(
    agents_client, fake_agents
):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:3], Sleep(1.5), *steps[3:]]
    client = await agents_client(heartbeat_interval=0.3)
    response = await client.post(URL, json=rpc("SendStreamingMessage", send()))
    body = await response.read()
    assert body.count(b": keep-alive\n\n") >= 3
    assert b"\r" not in body
    assert results(body)[-1]["result"]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"


async def test_one_context_id_is_two_conversations_and_tasks_are_their_caller_s_own(
    agents_client, fake_agents
):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:3], Sleep(1.0), *steps[3:]]
    client = await agents_client(
        auth_mode="api-key", auth_api_keys=f"alice:{ALICE},bob:{BOB}", resume_window=30.0
    )
    alice, bob = ({"Authorization": f"Bearer {key}"} for key in (ALICE, BOB))
    first = await client.post(URL, json=rpc("SendMessage", send(contextId="c")), headers=alice)
    task_id = (await first.json())["result"]["task"]["id"]
    stream = await client.post(
        URL, json=rpc("SendStreamingMessage", send(contextId="c")), headers=bob
    )
    streamed = results(await stream.read())
    bobs_task = streamed[0]["result"]["task"]["id"]
    assert len(fake_agents.sessions) == 2, "bob's context c is not alice's"
    for method in ("GetTask", "SubscribeToTask", "CancelTask"):
        answer = await client.post(URL, json=rpc(method, {"id": bobs_task}), headers=alice)
        assert (await answer.json())["error"]["code"] == -32001, method
    mine = await client.post(URL, json=rpc("GetTask", {"id": bobs_task}), headers=bob)
    assert (await mine.json())["result"]["status"]["state"] == "TASK_STATE_COMPLETED"
    assert task_id != bobs_task
    again = await client.post(URL, json=rpc("SendMessage", send(contextId="c")), headers=alice)
    assert (await again.json())["result"]["task"]["contextId"] == "c"
    assert [turn["session_id"] for turn in fake_agents.turns] == [
        fake_agents.sessions[0],
        fake_agents.sessions[1],
        fake_agents.sessions[0],
    ]
    unauthenticated = await client.post(URL, json=rpc("GetTask", {"id": bobs_task}))
    assert unauthenticated.status == 401
    assert (await unauthenticated.json())["error"]["code"] == -32600


async def test_cancel_task_stops_the_running_turn_and_answers_it_canceled(
    agents_client, fake_agents, fixed_ids
):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:3], Sleep(5.0), *steps[3:]]
    client = await agents_client(resume_window=30.0, heartbeat_interval=0.2)
    stream = await client.post(URL, json=rpc("SendStreamingMessage", send(contextId="ctx-1")))
    head = b""
    while b'"artifactUpdate"' not in head:
        head += await asyncio.wait_for(stream.content.readuntil(b"\n\n"), 10)
    canceled = await client.post(URL, json=rpc("CancelTask", {"id": TASK_ID}, rpc_id="c"))
    task = (await canceled.json())["result"]
    assert task["status"]["state"] == "TASK_STATE_CANCELED"
    assert task["metadata"] == {"code": "interrupted"}
    again = await client.post(URL, json=rpc("CancelTask", {"id": TASK_ID}))
    assert (await again.json())["error"]["code"] == -32002
    sent = results(head + await asyncio.wait_for(stream.read(), 10))
    assert sent[-1]["result"]["statusUpdate"]["status"]["state"] == "TASK_STATE_CANCELED"
    of_ended = await client.post(URL, json=rpc("SendMessage", send(taskId=TASK_ID)))
    assert (await of_ended.json())["error"]["code"] == -32004


async def test_format_a2a_on_the_streaming_query_is_a_task_of_the_conversation(
    agents_client, fake_agents
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    response = await client.post("/v1/streaming_query?format=a2a", json={"query": "Hi"})
    sent = results(await response.read())
    task = sent[0]["result"]["task"]
    assert (sent[0]["id"], task["contextId"]) == (None, fake_agents.sessions[0])
    assert sent[-1]["result"]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
