"""The chat page (`GET /`, web/) in headless Chromium: what a PatternFly chatbot user sees."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
import pytest

from fakes.agents_upstream import Sleep, Status, fixture_steps
from service.upstream.demo import ANSWER, DOCUMENTS

pytestmark = [pytest.mark.browser, pytest.mark.node]

QUESTION = "What does this gateway do?"
DEMO_SOURCES = [{"title": title, "url": url} for url, title in DOCUMENTS]


def only_answer(report: dict[str, Any]) -> dict[str, Any]:
    """The report's one entry, which must be a rendered answer."""
    entry: dict[str, Any]
    (entry,) = report["entries"]
    assert entry["kind"] == "answer"
    return entry


def shows_a_heartbeat(visible: str) -> bool:
    """Whether the word "heartbeat" stands alone in the page's text, as a leaked heartbeat token
    would (the demo's answer says "heartbeats" and its tool result "heartbeat_interval_s")."""
    return re.search(r"\bheartbeat\b", visible, re.IGNORECASE) is not None


async def test_a_demo_turn_shows_its_answer_tool_calls_and_sources(start_service, run_page):
    # Heartbeats every 0.3 s during the demo's 1.2 s knowledge search (120 units of 0.01 s).
    service = start_service(HEARTBEAT_INTERVAL="0.3", DEMO_DELAY="0.01")
    report = await run_page(service.url + "/", [{"ask": QUESTION}], screenshot="turn.png")
    answer = only_answer(report)
    assert answer["state"] == "done"
    assert answer["answer"] == ANSWER
    assert [(call["tool"], call["phase"], call["title"]) for call in answer["toolCalls"]] == [
        ("knowledge_search", "done", "Tool call: knowledge_search"),
        ("get_gateway_status", "done", "Tool call: get_gateway_status"),
    ]
    search, status = answer["toolCalls"]
    assert search["response"].splitlines() == [
        "Tool response: knowledge_search",
        "Summary",
        "knowledge_search tool found 2 chunks:",
    ]
    assert status["response"].splitlines() == [
        "Tool response: get_gateway_status",
        "Response",
        '{"replicas_ready": 3, "heartbeat_interval_s": 5}',
    ]
    assert answer["sourcesHeading"] == "2 sources"
    assert answer["sources"] == DEMO_SOURCES
    assert answer["violations"] == answer["errors"] == answer["failures"] == []
    assert answer["heartbeats"] >= 2, (
        "the search pause must span heartbeats for this test to mean anything"
    )
    assert not shows_a_heartbeat(report["visibleText"])
    assert report["streamingPosts"] == [service.url + "/v1/streaming_query?format=patternfly"]
    assert report["consoleErrors"] == []


async def test_a_long_upstream_silence_behind_an_idle_proxy_renders_one_answer(
    start_service, idle_proxy, run_page
):
    # A 3 s knowledge search behind a proxy that cuts connections idle for 1 s: only the timer
    # heartbeats (every 0.2 s) keep the stream open, and the answer shows once.
    service = start_service(HEARTBEAT_INTERVAL="0.2", DEMO_DELAY="0.025")
    proxy = await idle_proxy(service.url, 1.0)
    report = await run_page(proxy.url + "/", [{"ask": QUESTION}], screenshot="long-silence.png")
    answer = only_answer(report)
    assert answer["state"] == "done"
    assert answer["answer"] == ANSWER
    assert report["visibleText"].count(ANSWER) == 1
    assert answer["heartbeats"] >= 10
    assert not shows_a_heartbeat(report["visibleText"])
    assert answer["failures"] == []
    assert answer["sources"] == DEMO_SOURCES
    assert proxy.queries == 1
    assert report["streamingPosts"] == [proxy.url + "/v1/streaming_query?format=patternfly"]


async def test_a_stream_cut_during_silence_shows_an_error_and_never_asks_again(
    start_service, idle_proxy, run_page
):
    # The seed's failure: no heartbeat during a long search, so the idle proxy cuts the stream.
    # fetch-event-source would retry by default and stream a second answer; the page must not.
    service = start_service(HEARTBEAT_INTERVAL="30", DEMO_DELAY="0.025")
    proxy = await idle_proxy(service.url, 1.0)
    report = await run_page(proxy.url + "/", [{"ask": QUESTION}], screenshot="cut.png")
    answer = only_answer(report)
    assert answer["state"] == "failed"
    assert answer["failures"] == [
        "Danger alert:\nThe stream was cut\nThe connection failed before the end of the answer "
        "(network error); the question was not sent again."
    ]
    assert answer["answer"] == ""
    # The search it was waiting for gets no result now: no spinner left running.
    assert [(call["tool"], call["phase"], call["title"]) for call in answer["toolCalls"]] == [
        ("knowledge_search", "unfinished", "Tool call: knowledge_search (no result)")
    ]
    assert ANSWER not in report["visibleText"]
    assert proxy.cuts >= 1
    assert proxy.queries == 1
    assert len(report["streamingPosts"]) == 1


async def test_a_follow_up_question_continues_the_same_conversation(
    agents_client, fake_agents, run_page
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    report = await run_page(str(client.make_url("/")), [{"ask": "Say hello."}, {"ask": "Again?"}])
    answers = [(entry["kind"], entry["state"], entry["answer"]) for entry in report["entries"]]
    hello = "Hello from the fake model. This is a scripted answer."
    assert answers == [("answer", "done", hello), ("answer", "done", hello)]
    assert len(fake_agents.sessions) == 1
    assert [turn["session_id"] for turn in fake_agents.turns] == fake_agents.sessions * 2
    assert [turn["body"]["messages"] for turn in fake_agents.turns] == [
        [{"role": "user", "content": "Say hello."}],
        [{"role": "user", "content": "Again?"}],
    ]


async def test_the_stop_button_ends_the_answer_and_the_upstream_turn(
    agents_client, fake_agents, run_page
):
    fake_agents.steps = [*fixture_steps("text.sse")[:3], Sleep(30), *fixture_steps("text.sse")[3:]]
    client = await agents_client()
    steps = [{"ask": "Say hello.", "wait": False}, {"stop": True, "afterText": "Hello from"}]
    report = await run_page(str(client.make_url("/")), steps)
    answer = only_answer(report)
    assert (answer["state"], answer["answer"], answer["failures"]) == ("stopped", "Hello from", [])
    await asyncio.wait_for(fake_agents.turn_ended.wait(), 5)
    assert fake_agents.end_reason in {"cancelled", "client_gone"}


async def test_a_shield_violation_shows_the_refusal_as_the_answer_and_no_shield_text(
    agents_client, fake_agents, run_page
):
    fake_agents.steps = fixture_steps("shield.sse")
    client = await agents_client()
    report = await run_page(str(client.make_url("/")), [{"ask": "Something unsafe"}])
    answer = only_answer(report)
    assert answer["state"] == "done"
    assert answer["violations"] == []  # patternfly sends no shield verdicts, only the refusal
    assert "Violation" not in report["visibleText"]
    assert answer["answer"] == "I can't answer that. Can I help with something else?"
    assert answer["toolCalls"] == [] and answer["sources"] == []


async def test_an_error_frame_shows_as_an_error_after_the_partial_answer(
    agents_client, fake_agents, run_page
):
    fake_agents.steps = fixture_steps("fail-mid.sse")
    client = await agents_client()
    report = await run_page(str(client.make_url("/")), [{"ask": "Fail halfway"}])
    answer = only_answer(report)
    assert answer["state"] == "done"
    assert answer["answer"] == "This answer will fail"
    assert answer["errors"] == [
        "Danger alert:\nThe agent failed\n500: Internal server error: An unexpected error occurred."
    ]
    assert answer["failures"] == []


async def test_a_gateway_error_shows_its_title_and_message_after_the_partial_answer(
    agents_client, fake_agents, run_page
):
    fake_agents.steps = fixture_steps("text.sse")[:-1]  # every chunk but `turn_complete`
    client = await agents_client()
    report = await run_page(str(client.make_url("/")), [{"ask": "Cut it short"}])
    answer = only_answer(report)
    assert answer["state"] == "done"
    assert answer["errors"] == [
        "Danger alert:\nThe answer was cut short\n"
        "The agent's stream ended before the answer was complete."
    ]
    assert answer["failures"] == []


async def test_an_upstream_that_cannot_start_the_turn_shows_the_503(
    agents_client, fake_agents, run_page
):
    fake_agents.steps = [Status(500)]
    client = await agents_client()
    report = await run_page(str(client.make_url("/")), [{"ask": "Anyone there?"}])
    answer = only_answer(report)
    assert answer["state"] == "failed"
    assert answer["failures"] == [
        "Danger alert:\nUnable to connect to Llama Stack\n"
        'llama-stack answered HTTP 500: {"detail": "boom"}'
    ]
    assert len(report["streamingPosts"]) == 1


async def test_the_format_picker_shows_the_same_question_as_each_formats_frames(
    start_service, run_page
):
    service = start_service(DEMO_DELAY="0")
    async with aiohttp.ClientSession() as http:
        async with http.get(service.url + "/v1/formats") as answer:
            formats = [entry["name"] for entry in await answer.json()]
        direct = {}
        for name in formats:
            async with http.post(
                f"{service.url}/v1/streaming_query?format={name}", json={"query": QUESTION}
            ) as answer:
                direct[name] = (await answer.read()).decode()
    steps = [{"ask": QUESTION}, *({"pick": name} for name in formats)]
    report = await run_page(service.url + "/", steps, screenshot="formats.png")
    rendered, *raw = report["entries"]
    assert rendered["kind"] == "answer" and rendered["answer"] == ANSWER
    assert [(entry["kind"], entry["format"], entry["state"]) for entry in raw] == [
        ("frames", name, "done") for name in formats
    ]
    for entry in raw:
        shown, expected = frames_of(entry["rawFrames"]), frames_of(direct[entry["format"]])
        # Ids and timestamps differ between two turns; the number of frames and the last do not
        # (but for its ids: ag-ui's last frame names the run and thread, responses' the response).
        assert len(shown) == len(expected), entry["format"]
        assert UUID.sub("<uuid>", shown[-1]) == UUID.sub("<uuid>", expected[-1]), entry["format"]
    assert [post.rsplit("=", 1)[1] for post in report["streamingPosts"]] == ["patternfly", *formats]


UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|resp_[A-Za-z0-9_.-]+"
    r"|\"created_at\":\d+|msg_[A-Za-z0-9_-]+"
)
"""What differs between two turns' last frames: uuids, response and message ids, timestamps."""


def frames_of(text: str) -> list[str]:
    """The SSE frames of a stream's text, in order."""
    return [frame for frame in text.split("\n\n") if frame.strip()]
