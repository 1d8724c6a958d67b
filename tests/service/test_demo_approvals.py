"""The demo agent's guarded tool through the service's approval loop, read as raw events: the
stream waits at its request, `POST /v1/tool-approvals` decides, the same stream goes on."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse

from service.http.app import create_app
from service.settings import Settings
from service.upstream.demo import GUARDED_RESULT
from tests.service.approval_turns import END, frames_until, registry, rest

QUESTION = {"query": "Please restart_service the gateway."}
ARGUMENTS = {"service": "agent-stream-gateway"}
Frames = list[tuple[str, Any]]


async def demo(aiohttp_client: Any) -> Any:
    """The service on the demo agent (no pauses) with the approval tests' raw formats."""
    settings = Settings(demo_delay=0, heartbeat_interval=30.0)
    return await aiohttp_client(create_app(settings, registry=registry()))


async def asked(client: Any, format_name: str) -> tuple[ClientResponse, str, Frames]:
    """Ask the guarded question: the open stream, the approval id and the frames up to it."""
    response = await client.post(f"/v1/streaming_query?format={format_name}", json=QUESTION)
    frames = await frames_until(response, "approval_request")
    return response, frames[-1][1]["approval_id"], frames


def call(chunk: int, step: str, approval_id: str) -> tuple[str, Any]:
    """The guarded call's `tool_call` frame (its id is the approval id)."""
    fields = {"chunk": chunk, "step": step, "call_id": approval_id, "name": "restart_service"}
    return ("tool_call", {"type": "tool_call", **fields, "arguments": ARGUMENTS})


def step(kind: str, chunk: int, name: str) -> tuple[str, Any]:
    """A `step_start` or `step_end` frame."""
    return (kind, {"type": kind, "chunk": chunk, "step": name})


def decided(approval_id: str, decision: str, reason: str | None = None) -> tuple[str, Any]:
    """The `approval_result` frame the service sends for the decision."""
    fields = {"approval_id": approval_id, "call_id": approval_id, "name": "restart_service"}
    data = {"type": "approval_result", "chunk": None, "step": None, **fields}
    return ("approval_result", {**data, "decision": decision, "reason": reason})


def answer(first_chunk: int, text: str) -> Frames:
    """The continuation's answering step (the demo streams it word by word) and turn_complete."""
    parts = text.split(" ")
    words = [part + " " for part in parts[:-1]] + parts[-1:]
    deltas: Frames = [
        (
            "text_delta",
            {"type": "text_delta", "chunk": first_chunk + n, "step": "inference", "text": word},
        )
        for n, word in enumerate(words, start=1)
    ]
    last = first_chunk + len(words)
    return [
        step("step_start", first_chunk, "inference"),
        *deltas,
        step("step_end", last + 1, "inference"),
        ("turn_complete", {"type": "turn_complete", "chunk": last + 2, "text": text}),
    ]


async def test_the_guarded_question_waits_at_its_approval_request(aiohttp_client):
    response, approval_id, frames = await asked(await demo(aiohttp_client), "raw-route")
    conversation_id = frames[0][1]["conversation_id"]
    assert frames == [
        ("start", {"type": "start", "chunk": None, "conversation_id": conversation_id}),
        ("turn_start", {"type": "turn_start", "chunk": 0}),
        step("step_start", 1, "inference"),
        call(2, "inference", approval_id),
        (
            "approval_request",
            {
                "type": "approval_request",
                "chunk": 3,
                "step": "inference",
                "approval_id": approval_id,
                "call_id": approval_id,
                "name": "restart_service",
                "arguments": ARGUMENTS,
                "server_label": "demo",
                "description": "Restarts the gateway's replicas one at a time.",
            },
        ),
    ]
    response.close()


async def test_approved_the_guarded_tool_runs_and_the_answer_follows_in_the_same_stream(
    aiohttp_client,
):
    client = await demo(aiohttp_client)
    response, approval_id, _ = await asked(client, "raw-route")
    body = {"approval_id": approval_id, "approved": True}
    decision = await client.post("/v1/tool-approvals", json=body)
    assert await decision.json() == {"approval_id": approval_id, "decision": "approved"}
    run = {"chunk": 1, "step": "tool_execution", "call_id": approval_id, "name": "restart_service"}
    content = [{"type": "text", "text": GUARDED_RESULT}]
    assert await rest(response) == [
        step("step_end", 4, "inference"),
        decided(approval_id, "approved"),
        step("step_start", 0, "tool_execution"),
        call(1, "tool_execution", approval_id),
        ("tool_result", {"type": "tool_result", **run, "content": content, "failed": False}),
        step("step_end", 1, "tool_execution"),
        *answer(2, "I ran restart_service: agent-stream-gateway restarted, 3 replicas ready."),
        END,
    ]


async def test_denied_the_guarded_tool_does_not_run_and_the_answer_says_so(aiohttp_client):
    client = await demo(aiohttp_client)
    response, approval_id, _ = await asked(client, "raw-route")
    body = {"approval_id": approval_id, "approved": False, "reason": "Not now."}
    decision = await client.post("/v1/tool-approvals", json=body)
    assert await decision.json() == {"approval_id": approval_id, "decision": "denied"}
    assert await rest(response) == [
        step("step_end", 4, "inference"),
        decided(approval_id, "denied", "Not now."),
        *answer(0, "I did not run restart_service: it was not approved. Reason: Not now."),
        END,
    ]


async def test_a_client_that_cannot_answer_gets_the_answer_that_the_tool_did_not_run(
    aiohttp_client,
):
    client = await demo(aiohttp_client)
    response = await client.post("/v1/streaming_query?format=raw-none", json=QUESTION)
    frames = await rest(response)
    (request,) = [data for name, data in frames if name == "approval_request"]
    reason = "This client cannot approve tool calls, so restart_service was not run."
    text = f"I did not run restart_service: it was not approved. Reason: {reason}"
    assert frames[-len(answer(0, text)) - 3 :] == [
        step("step_end", 4, "inference"),
        decided(request["approval_id"], "unanswerable", reason),
        *answer(0, text),
        END,
    ]
