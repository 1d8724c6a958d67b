"""Tool approvals in a stream: asked, decided (or expired, or unanswerable), and the same turn goes on."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import pytest

from fakes.responses_upstream import FakeResponsesUpstream, Sleep, Status, approval_request_item
from formatters.events import (
    ApprovalRequestEvent,
    Event,
    TextDeltaEvent,
    TurnAwaitingInputEvent,
    TurnCompleteEvent,
    TurnStartEvent,
)
from service.approvals import context as approvals_context
from service.approvals.desk import Approval, ApprovalsUnavailable, MemoryDesk
from service.http.app import create_app
from service.keys import APPROVALS
from service.resume.manager import LIFETIME_MARGIN, make_store
from service.resume.redis_store import RedisStore
from service.settings import Settings
from service.upstream import HistoryTurn, ModelInfo, Readiness, Turn
from service.upstream.batches import EventBatches
from service.upstream.turn import ApprovalDecision, AskedApproval, TurnRequest
from tests.service.approval_turns import (
    ASK,
    DELETE_POD,
    END,
    SCALE,
    asking,
    frames_until,
    next_frame,
    registry,
    rest,
    service,
)

ROUTE = "/v1/streaming_query?format=raw-route"


@pytest.fixture
def fake() -> FakeResponsesUpstream:
    return FakeResponsesUpstream(server_version="1.5.0")


@pytest.fixture
async def upstream(aiohttp_server, fake):
    return await aiohttp_server(fake.app())


def asked_frames(conversation_id: str) -> list[tuple[str, Any]]:
    """The raw frames of the first response, up to its approval request (text "Let me.")."""
    return [
        ("start", {"type": "start", "chunk": None, "conversation_id": conversation_id}),
        ("step_start", {"type": "step_start", "chunk": 1, "step": "inference"}),
        ("text_delta", {"type": "text_delta", "chunk": 2, "step": "inference", "text": "Let "}),
        ("text_delta", {"type": "text_delta", "chunk": 3, "step": "inference", "text": "me."}),
        ("step_end", {"type": "step_end", "chunk": 4, "step": "inference"}),
        tool_call(6, "apr_1", "delete_pod", {"pod": "a"}),
        approval_request(6, "apr_1", "delete_pod", {"pod": "a"}),
    ]


def tool_call(chunk: int, call_id: str, name: str, arguments: Any) -> tuple[str, Any]:
    return (
        "tool_call",
        {
            "type": "tool_call",
            "chunk": chunk,
            "step": "inference",
            "call_id": call_id,
            "name": name,
            "arguments": arguments,
        },
    )


def approval_request(chunk: int, approval_id: str, name: str, arguments: Any) -> tuple[str, Any]:
    return (
        "approval_request",
        {
            "type": "approval_request",
            "chunk": chunk,
            "step": "inference",
            "approval_id": approval_id,
            "call_id": approval_id,
            "name": name,
            "arguments": arguments,
            "server_label": "k8s",
            "description": None,
        },
    )


def result(approval_id: str, name: str, decision: str, reason: str | None) -> tuple[str, Any]:
    return (
        "approval_result",
        {
            "type": "approval_result",
            "chunk": None,
            "step": None,
            "approval_id": approval_id,
            "call_id": approval_id,
            "name": name,
            "decision": decision,
            "reason": reason,
        },
    )


def answer(first_chunk: int, words: list[str], whole: str) -> list[tuple[str, Any]]:
    """The frames of a continuation's answer message, and its turn_complete with `whole`."""
    chunk = first_chunk
    frames: list[tuple[str, Any]] = [
        ("step_start", {"type": "step_start", "chunk": chunk, "step": "inference"})
    ]
    for word in words:
        chunk += 1
        frames.append(
            (
                "text_delta",
                {"type": "text_delta", "chunk": chunk, "step": "inference", "text": word},
            )
        )
    frames.append(("step_end", {"type": "step_end", "chunk": chunk + 1, "step": "inference"}))
    frames.append(("turn_complete", {"type": "turn_complete", "chunk": chunk + 2, "text": whole}))
    return frames


def ran(call_id: str, name: str, arguments: Any, output: str) -> list[tuple[str, Any]]:
    """The frames of a continuation's `mcp_call` item (chunks 1 and 2)."""
    run = {"chunk": 2, "step": "tool_execution", "call_id": call_id, "name": name}
    return [
        tool_call(1, call_id, name, arguments),
        ("step_start", {"type": "step_start", "chunk": 1, "step": "tool_execution"}),
        ("tool_call", {"type": "tool_call", **run, "arguments": arguments}),
        ("tool_result", {"type": "tool_result", **run, "content": output, "failed": False}),
        ("step_end", {"type": "step_end", "chunk": 2, "step": "tool_execution"}),
    ]


NOT_RUN = [
    *answer(1, ["delete_pod ", "was ", "not ", "run."], "Let me.delete_pod was not run."),
    END,
]
"""The end of a stream whose delete_pod was denied (after the first response's "Let me.")."""


def answered(item: dict[str, Any], approve: bool, reason: str | None = None) -> list[Any]:
    """What a continuation's `input` holds for one decision: the request's copy, the response."""
    response: dict[str, Any] = {
        "type": "mcp_approval_response",
        "approval_request_id": item["id"],
        "approve": approve,
    }
    if reason is not None:
        response["reason"] = reason
    return [item, response]


async def test_an_approved_tool_runs_and_the_answer_streams_on_in_the_same_stream(
    aiohttp_client, upstream, fake
):
    script = asking(fake, DELETE_POD, text="Let me.")
    client = await service(aiohttp_client, upstream)
    response = await client.post(ROUTE, json=ASK)
    conversation_id = fake.conversations[0]
    assert await frames_until(response, "approval_request") == asked_frames(conversation_id)
    decided = await client.post(
        "/v1/tool-approvals", json={"approval_id": "apr_1", "approved": True}
    )
    assert decided.status == 200
    assert await decided.json() == {"approval_id": "apr_1", "decision": "approved"}
    assert await rest(response) == [
        result("apr_1", "delete_pod", "approved", None),
        *ran("mcp_apr_1", "delete_pod", {"pod": "a"}, "done"),
        *answer(3, ["delete_pod ", "said ", "done."], "Let me.delete_pod said done."),
        END,
    ]
    assert len(fake.requests) == 2
    assert fake.requests[1] == {
        "input": answered(DELETE_POD, True),
        "model": "openai/fake-model",
        "conversation": conversation_id,
        "stream": True,
        "instructions": "You are a helpful assistant.",
    }
    assert script.mismatches == []


async def test_a_denied_tool_is_not_run_and_the_reason_goes_to_the_agent(
    aiohttp_client, upstream, fake
):
    script = asking(fake, DELETE_POD, text="Let me.")
    client = await service(aiohttp_client, upstream)
    response = await client.post(ROUTE, json=ASK)
    await frames_until(response, "approval_request")
    body = {"approval_id": "apr_1", "approved": False, "reason": "Not that pod."}
    decided = await client.post("/v1/tool-approvals", json=body)
    assert await decided.json() == {"approval_id": "apr_1", "decision": "denied"}
    assert await rest(response) == [
        result("apr_1", "delete_pod", "denied", "Not that pod."),
        *NOT_RUN,
    ]
    assert fake.requests[1]["input"] == answered(DELETE_POD, False, "Not that pod.")
    assert script.mismatches == []
    again = await client.post("/v1/tool-approvals", json=body)
    assert again.status == 409
    assert await again.json() == {
        "detail": {
            "response": "Approval request closed",
            "cause": "This approval request was decided already.",
        }
    }


async def test_several_pending_approvals_are_decided_one_by_one(aiohttp_client, upstream, fake):
    script = asking(fake, DELETE_POD, SCALE)
    client = await service(aiohttp_client, upstream)
    response = await client.post(ROUTE, json=ASK)
    frames = await frames_until(response, "approval_request")
    assert frames[-1] == approval_request(2, "apr_1", "delete_pod", {"pod": "a"})
    assert await frames_until(response, "approval_request") == [
        tool_call(4, "apr_2", "scale", {"replicas": 3}),
        approval_request(4, "apr_2", "scale", {"replicas": 3}),
    ]
    await client.post("/v1/tool-approvals", json={"approval_id": "apr_2", "approved": True})
    assert await next_frame(response) == result("apr_2", "scale", "approved", None)
    await client.post("/v1/tool-approvals", json={"approval_id": "apr_1", "approved": False})
    assert await next_frame(response) == result("apr_1", "delete_pod", "denied", None)
    frames = await rest(response)
    assert frames[-2] == (
        "turn_complete",
        {"type": "turn_complete", "chunk": 12, "text": "delete_pod was not run. scale said done."},
    )
    assert fake.requests[1]["input"] == [*answered(DELETE_POD, False), *answered(SCALE, True)]
    assert script.mismatches == []


async def test_an_undecided_approval_expires_with_a_clear_frame_and_the_tool_is_denied(
    aiohttp_client, upstream, fake
):
    script = asking(fake, DELETE_POD, text="Let me.")
    client = await service(aiohttp_client, upstream, approval_timeout=0.3)
    response = await client.post(ROUTE, json=ASK)
    await frames_until(response, "approval_request")
    reason = "No decision came within 0.3 s, so delete_pod was not run."
    assert await rest(response) == [
        result("apr_1", "delete_pod", "expired", reason),
        *NOT_RUN,
    ]
    assert fake.requests[1]["input"] == answered(DELETE_POD, False, reason)
    assert script.mismatches == []
    late = await client.post("/v1/tool-approvals", json={"approval_id": "apr_1", "approved": True})
    assert late.status == 409
    assert await late.json() == {
        "detail": {
            "response": "Approval request closed",
            "cause": "This approval request expired before a decision came; the tool was not run.",
        }
    }


async def test_the_wait_has_heartbeats_and_does_not_count_against_the_stream_timeout(
    aiohttp_client, upstream, fake
):
    asking(fake, DELETE_POD)
    client = await service(aiohttp_client, upstream, heartbeat_interval=0.2, stream_timeout=0.6)
    response = await client.post(ROUTE, json=ASK)
    await frames_until(response, "approval_request")
    heartbeats = 0
    while heartbeats < 6:  # 1.2 s of waiting: twice the stream's time limit
        frame = await asyncio.wait_for(next_frame(response), 10)
        assert frame == ("heartbeat", {"type": "heartbeat", "chunk": None})
        heartbeats += 1
    await client.post("/v1/tool-approvals", json={"approval_id": "apr_1", "approved": True})
    frames = await rest(response)
    kinds = [kind for kind, _ in frames if kind != "heartbeat"]
    assert kinds[0] == "approval_result"
    assert kinds[-2:] == ["turn_complete", "end"]
    assert "turn_error" not in kinds


async def test_a_format_that_cannot_answer_denies_at_once_and_says_so(
    aiohttp_client, upstream, fake
):
    script = asking(fake, DELETE_POD, text="Let me.")
    client = await service(aiohttp_client, upstream)
    response = await client.post("/v1/streaming_query?format=raw-none", json=ASK)
    frames = await rest(response)
    reason = "This client cannot approve tool calls, so delete_pod was not run."
    assert frames == [
        *asked_frames(fake.conversations[0]),
        result("apr_1", "delete_pod", "unanswerable", reason),
        *NOT_RUN,
    ]
    assert fake.requests[1]["input"] == answered(DELETE_POD, False, reason)
    assert script.mismatches == []
    late = await client.post("/v1/tool-approvals", json={"approval_id": "apr_1", "approved": True})
    assert late.status == 409


async def test_an_upstream_that_cannot_go_on_ends_the_stream_with_its_error(
    aiohttp_client, upstream, fake
):
    asking(fake, DELETE_POD)
    fake.turns.append([Status(500, '{"error": {"message": "boom"}}')])
    client = await service(aiohttp_client, upstream)
    response = await client.post(ROUTE, json=ASK)
    await frames_until(response, "approval_request")
    await client.post("/v1/tool-approvals", json={"approval_id": "apr_1", "approved": True})
    assert await rest(response) == [
        result("apr_1", "delete_pod", "approved", None),
        (
            "turn_error",
            {
                "type": "error",
                "chunk": None,
                "message": "llama-stack answered HTTP 500: boom",
                "source": "upstream",
                "code": "upstream_unavailable",
            },
        ),
        END,
    ]


async def test_a_request_format_ends_the_stream_and_its_next_request_goes_on(
    aiohttp_client, upstream, fake
):
    script = asking(fake, DELETE_POD, text="Let me.")
    client = await service(aiohttp_client, upstream)
    first = await client.post("/v1/streaming_query?format=raw-request", json=ASK)
    conversation_id = fake.conversations[0]
    assert await rest(first) == [
        *asked_frames(conversation_id),
        ("turn_awaiting_input", {"type": "turn_awaiting_input", "chunk": 7}),
        END,
    ]
    decisions = {
        "conversation_id": conversation_id,
        "tool_approvals": [{"approval_id": "apr_1", "approved": True}],
    }
    second = await client.post("/v1/streaming_query?format=raw-request", json=decisions)
    assert second.status == 200
    frames = await rest(second)
    assert frames[0] == (
        "start",
        {"type": "start", "chunk": None, "conversation_id": conversation_id},
    )
    assert frames[-2:] == [
        ("turn_complete", {"type": "turn_complete", "chunk": 8, "text": "delete_pod said done."}),
        END,
    ]
    assert fake.requests[1]["input"] == answered(DELETE_POD, True)
    assert fake.requests[1]["conversation"] == conversation_id
    assert script.mismatches == []
    again = await client.post("/v1/streaming_query?format=raw-request", json=decisions)
    assert again.status == 409
    assert await again.json() == {
        "detail": {
            "response": "Approval request closed",
            "cause": "This approval request was decided already.",
        }
    }
    assert len(fake.requests) == 2


NOT_FOUND = {
    "detail": {
        "response": "Approval request not found",
        "cause": "No approval request of yours has this id in this conversation: unknown, no"
        " longer kept, or someone else's.",
    }
}


async def test_an_unknown_approval_id_is_not_found_and_a_bad_body_is_refused(
    aiohttp_client, upstream
):
    client = await service(aiohttp_client, upstream)
    unknown = await client.post("/v1/tool-approvals", json={"approval_id": "x", "approved": True})
    assert unknown.status == 404
    assert await unknown.json() == NOT_FOUND
    bad = await client.post("/v1/tool-approvals", json={"approval_id": "x", "approved": "yes"})
    assert bad.status == 422
    assert await bad.json() == {
        "detail": {
            "response": "Invalid request",
            "cause": "approved: Input should be a valid boolean",
        }
    }
    decisions = {
        "conversation_id": "conv_x",
        "tool_approvals": [{"approval_id": "x", "approved": True}],
    }
    streamed = await client.post("/v1/streaming_query?format=raw-request", json=decisions)
    assert streamed.status == 404
    assert await streamed.json() == NOT_FOUND


ALICE, BOB = "alice-key", "bob-key"


async def test_only_the_streams_owner_decides_and_anyone_else_gets_the_unknown_ids_404(
    aiohttp_client, upstream, fake
):
    asking(fake, DELETE_POD)
    client = await service(
        aiohttp_client, upstream, auth_mode="api-key", auth_api_keys=f"alice:{ALICE},bob:{BOB}"
    )
    as_alice = {"Authorization": f"Bearer {ALICE}"}
    as_bob = {"Authorization": f"Bearer {BOB}"}
    response = await client.post(ROUTE, json=ASK, headers=as_alice)
    await frames_until(response, "approval_request")
    decision = {"approval_id": "apr_1", "approved": True}
    bobs = await client.post("/v1/tool-approvals", json=decision, headers=as_bob)
    assert bobs.status == 404
    assert await bobs.json() == NOT_FOUND
    nobodys = await client.post("/v1/tool-approvals", json=decision)
    assert nobodys.status == 401
    alices = await client.post("/v1/tool-approvals", json=decision, headers=as_alice)
    assert alices.status == 200
    assert (await rest(response))[0] == result("apr_1", "delete_pod", "approved", None)


async def test_a_client_that_leaves_a_pending_approval_cancels_the_turn(
    aiohttp_client, upstream, fake
):
    asking(fake, DELETE_POD)
    client = await service(aiohttp_client, upstream, heartbeat_interval=0.1)
    response = await client.post(ROUTE, json=ASK)
    await frames_until(response, "approval_request")
    response.close()
    desk = client.app[APPROVALS]
    for _ in range(100):  # the next heartbeat finds the client gone: within 10 s at most
        if await desk.get("apr_1") is None:
            break
        await asyncio.sleep(0.1)
    late = await client.post("/v1/tool-approvals", json={"approval_id": "apr_1", "approved": True})
    assert late.status == 404
    assert await late.json() == NOT_FOUND
    assert len(fake.requests) == 1


def parse_stamped(frame: str) -> tuple[str, tuple[str, Any]]:
    """Return a resumable raw frame's id and its (event, data)."""
    fields = dict(line.split(": ", 1) for line in frame.strip("\n").split("\n"))
    return fields["id"], (fields["event"], json.loads(fields["data"]))


async def test_with_resume_on_the_turn_waits_on_and_a_client_can_resume_it(
    aiohttp_client, upstream, fake
):
    asking(fake, DELETE_POD)
    client = await service(aiohttp_client, upstream, resume_window=30.0, heartbeat_interval=0.1)
    response = await client.post(ROUTE, json=ASK)
    stream_id = response.headers["X-Stream-ID"]
    last_id = ""
    while True:
        last_id, frame = parse_stamped((await response.content.readuntil(b"\n\n")).decode())
        if frame[0] == "approval_request":
            break
    response.close()
    await asyncio.sleep(0.3)  # a few heartbeats go to the store, with no reader
    decided = await client.post(
        "/v1/tool-approvals", json={"approval_id": "apr_1", "approved": True}
    )
    assert decided.status == 200
    resumed = await client.get(f"/v1/streams/{stream_id}", headers={"Last-Event-ID": last_id})
    assert resumed.status == 200
    body = (await resumed.read()).decode()
    frames = [parse_stamped(frame)[1] for frame in body.split("\n\n") if frame]
    kinds = [kind for kind, _ in frames if kind != "heartbeat"]
    assert frames[[kind for kind, _ in frames].index("approval_result")] == result(
        "apr_1", "delete_pod", "approved", None
    )
    assert kinds == [
        "approval_result",
        "tool_call",
        "step_start",
        "tool_call",
        "tool_result",
        "step_end",
        "step_start",
        "text_delta",
        "text_delta",
        "text_delta",
        "step_end",
        "turn_complete",
        "end",
    ]
    assert fake.requests[1]["input"] == answered(DELETE_POD, True)


@pytest.mark.redis
async def test_a_decision_posted_on_another_replica_reaches_the_waiting_stream(
    aiohttp_client, upstream, fake, redis_url
):
    item = approval_request_item(f"apr_{secrets.token_hex(8)}", "delete_pod", '{"pod": "a"}', "k8s")
    script = asking(fake, item)
    replica_a = await service(aiohttp_client, upstream, redis_url=redis_url)
    replica_b = await service(aiohttp_client, upstream, redis_url=redis_url)
    response = await replica_a.post(ROUTE, json=ASK)
    await frames_until(response, "approval_request")
    decided = await replica_b.post(
        "/v1/tool-approvals", json={"approval_id": item["id"], "approved": True}
    )
    assert decided.status == 200
    assert await decided.json() == {"approval_id": item["id"], "decision": "approved"}
    frames = await asyncio.wait_for(rest(response), 10)
    assert frames[0] == result(item["id"], "delete_pod", "approved", None)
    assert frames[-2] == (
        "turn_complete",
        {"type": "turn_complete", "chunk": 8, "text": "delete_pod said done."},
    )
    assert fake.requests[1]["input"] == answered(item, True)
    assert script.mismatches == []
    again = await replica_a.post(
        "/v1/tool-approvals", json={"approval_id": item["id"], "approved": False}
    )
    assert again.status == 409


async def test_decisions_for_another_conversation_are_not_found(aiohttp_client, upstream, fake):
    asking(fake, DELETE_POD)
    client = await service(aiohttp_client, upstream)
    await rest(await client.post("/v1/streaming_query?format=raw-request", json=ASK))
    elsewhere = {
        "conversation_id": "conv_" + "0" * 48,
        "tool_approvals": [{"approval_id": "apr_1", "approved": True}],
    }
    refused = await client.post("/v1/streaming_query?format=raw-request", json=elsewhere)
    assert refused.status == 404
    assert await refused.json() == NOT_FOUND
    assert len(fake.requests) == 1


class PausingUpstream:
    """An upstream whose first turn asks one approval and whose next one answers (generators)."""

    name = "pausing"
    client_functions = False

    def __init__(self) -> None:
        self.asked: list[tuple[TurnRequest, str | None]] = []

    async def start_turn(self, query: TurnRequest, *, owner: str | None = None) -> Turn:
        self.asked.append((query, owner))
        first = not query.approval_decisions
        return Turn(conversation_id="c1", events=EventBatches(self._batches(first)))

    async def readiness(self) -> Readiness:
        return Readiness(ready=True)

    async def models(self) -> list[ModelInfo]:
        return []

    async def history(self, conversation_id: str, owner: str | None) -> list[HistoryTurn]:
        return []

    async def delete(self, conversation_id: str, owner: str | None) -> None:
        return None

    async def _batches(self, first: bool) -> AsyncGenerator[list[Event], None]:
        yield [TurnStartEvent(chunk=0)]
        if first:
            yield [TextDeltaEvent(chunk=1, step="inference", text="Asking. ")]
            yield [
                ApprovalRequestEvent(
                    chunk=2, approval_id="a1", call_id="t1", name="rm", arguments={"path": "/"}
                ),
                TurnAwaitingInputEvent(chunk=3),
            ]
        else:
            yield [TextDeltaEvent(chunk=1, step="inference", text="Not done.")]
            yield [TurnCompleteEvent(chunk=2, text="Not done.")]


async def test_a_generator_turn_goes_on_as_one_turn_with_one_turn_start(aiohttp_client):
    pausing = PausingUpstream()
    app = create_app(Settings(heartbeat_interval=30.0), registry=registry(), upstream=pausing)
    client = await aiohttp_client(app)
    response = await client.post("/v1/streaming_query?format=raw-none", json=ASK)
    reason = "This client cannot approve tool calls, so rm was not run."
    assert await rest(response) == [
        ("start", {"type": "start", "chunk": None, "conversation_id": "c1"}),
        ("turn_start", {"type": "turn_start", "chunk": 0}),
        ("text_delta", {"type": "text_delta", "chunk": 1, "step": "inference", "text": "Asking. "}),
        (
            "approval_request",
            {
                "type": "approval_request",
                "chunk": 2,
                "step": None,
                "approval_id": "a1",
                "call_id": "t1",
                "name": "rm",
                "arguments": {"path": "/"},
                "server_label": None,
                "description": None,
            },
        ),
        (
            "approval_result",
            {
                "type": "approval_result",
                "chunk": None,
                "step": None,
                "approval_id": "a1",
                "call_id": "t1",
                "name": "rm",
                "decision": "unanswerable",
                "reason": reason,
            },
        ),
        (
            "text_delta",
            {"type": "text_delta", "chunk": 1, "step": "inference", "text": "Not done."},
        ),
        ("turn_complete", {"type": "turn_complete", "chunk": 2, "text": "Asking. Not done."}),
        END,
    ]
    asked = AskedApproval(approval_id="a1", name="rm", arguments='{"path": "/"}', server_label="")
    assert pausing.asked == [
        (TurnRequest(query="Delete pod a."), None),
        (
            TurnRequest(
                query="",
                conversation_id="c1",
                approval_decisions=(ApprovalDecision("a1", False, reason, asked),),
            ),
            None,
        ),
    ]


class DownDesk(MemoryDesk):
    """A desk whose store does not answer."""

    async def record(self, approvals: Sequence[Approval]) -> None:
        raise ApprovalsUnavailable()


async def test_a_desk_that_cannot_keep_the_requests_ends_the_stream_with_an_error(
    aiohttp_client, upstream, fake, monkeypatch
):
    asking(fake, DELETE_POD)
    monkeypatch.setattr(approvals_context, "make_desk", lambda settings: DownDesk(keep=1))
    client = await service(aiohttp_client, upstream)
    response = await client.post(ROUTE, json=ASK)
    frames = await rest(response)
    assert frames[-3:] == [
        approval_request(2, "apr_1", "delete_pod", {"pod": "a"}),
        (
            "turn_error",
            {
                "type": "error",
                "chunk": None,
                "message": "The service could not keep this turn's approval requests; please"
                " ask again.",
                "source": "gateway",
                "code": "approvals_unavailable",
            },
        ),
        END,
    ]
    assert len(fake.requests) == 1


async def test_decisions_whose_turn_could_not_start_may_be_sent_again(
    aiohttp_client, upstream, fake
):
    script = asking(fake, DELETE_POD)
    fake.turns.append([Status(500, '{"error": {"message": "boom"}}')])
    client = await service(aiohttp_client, upstream)
    await rest(await client.post("/v1/streaming_query?format=raw-request", json=ASK))
    decisions = {
        "conversation_id": fake.conversations[0],
        "tool_approvals": [{"approval_id": "apr_1", "approved": True}],
    }
    refused = await client.post("/v1/streaming_query?format=raw-request", json=decisions)
    assert refused.status == 503
    retried = await client.post("/v1/streaming_query?format=raw-request", json=decisions)
    assert retried.status == 200
    assert (await rest(retried))[-2] == (
        "turn_complete",
        {"type": "turn_complete", "chunk": 8, "text": "delete_pod said done."},
    )
    assert [request["input"] for request in fake.requests[1:]] == [answered(DELETE_POD, True)] * 2
    assert script.mismatches == []


async def test_a_redis_streams_keys_outlive_its_time_limit_and_one_full_approval_wait():
    settings = Settings(
        redis_url="redis://127.0.0.1:9/0",
        resume_window=30.0,
        stream_timeout=600.0,
        approval_timeout=300.0,
    )
    store = make_store(settings)
    assert isinstance(store, RedisStore)
    assert store._lifetime_ms == (600 + 300 + 30 + LIFETIME_MARGIN) * 1000
    await store.close()


# A client that decides as soon as it reads an approval request finds it on the desk: OGX sends
# `response.completed` tens of milliseconds after the `mcp_approval_request` item (it stores the
# response first), and the stream pauses only at the completion (found by
# tests/e2e/test_approvals_e2e.py, which decides at once on a real OGX).
COMPLETION_LAG = 0.5
"""The upstream's pause between the approval request item and `response.completed`."""


def lagging(fake: FakeResponsesUpstream) -> None:
    """Make the asking response complete COMPLETION_LAG after its approval request item."""
    [steps] = fake.turns
    fake.turns = [[*steps[:-1], Sleep(COMPLETION_LAG), steps[-1]]]


@pytest.mark.parametrize("approved", [True, False])
async def test_a_decision_right_after_the_request_frame_is_taken(
    aiohttp_client, upstream, fake, approved
):
    asking(fake, DELETE_POD)
    lagging(fake)
    client = await service(aiohttp_client, upstream)
    response = await client.post(ROUTE, json=ASK)
    await frames_until(response, "approval_request")
    decided = await client.post(
        "/v1/tool-approvals", json={"approval_id": "apr_1", "approved": approved}
    )
    assert decided.status == 200, await decided.text()
    decision = "approved" if approved else "denied"
    assert await decided.json() == {"approval_id": "apr_1", "decision": decision}
    results = [data for name, data in await rest(response) if name == "approval_result"]
    assert [(r["approval_id"], r["decision"]) for r in results] == [("apr_1", decision)]
    assert len(fake.requests) == 2


async def test_held_events_keep_their_order_in_a_request_format(aiohttp_client, upstream, fake):
    """The request and what follows it wait for the desk; they come out in the turn's order."""
    asking(fake, DELETE_POD, text="Let me.")
    lagging(fake)
    client = await service(aiohttp_client, upstream)
    response = await client.post("/v1/streaming_query?format=raw-request", json=ASK)
    frames = await rest(response)
    names = [name for name, _ in frames]
    assert names[-4:] == ["tool_call", "approval_request", "turn_awaiting_input", "end"]
    assert "".join(data["text"] for name, data in frames if name == "text_delta") == "Let me."
