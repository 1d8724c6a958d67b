"""The chat page in headless Chromium: a tool approval decided on its card, and a reasoning shown.

Against the demo agent (`python -m service`): a question naming its guarded tool shows the
approval card; Approve (or Deny) posts the decision and the same stream goes on to the tool's
result (or its refusal) and the answer. These need the decision route and the patternfly
format's approval frames; until those are on the branch, the tests skip saying which is missing.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from formatters.events import ApprovalRequestEvent, ReasoningDeltaEvent
from formatters.patternfly import PatternflyFormatter
from service.http.app import create_app
from service.settings import Settings
from service.upstream.demo import ANSWER, GUARDED_RESULT, REASONING
from tests.browser.test_chat_page import only_answer

pytestmark = [pytest.mark.browser, pytest.mark.node]

GUARDED_QUESTION = "Please restart_service the gateway."
ARGUMENTS_SHOWN = '{\n  "service": "agent-stream-gateway"\n}'
APPROVAL_ID = re.compile(r"approval_[0-9a-f]{32}")
DEMO = {"HEARTBEAT_INTERVAL": "0.3", "DEMO_DELAY": "0.01"}
REFUSAL = "Tool 'restart_service' execution was rejected. Do not retry this exact tool call."
"""What the patternfly format sends as a denied call's result (lightspeed-service's words)."""


def _missing_for_approvals() -> str | None:
    """What the page's approvals still lack on this branch (None: all there)."""
    routes = {
        (route.method, route.resource.canonical)
        for route in create_app(Settings(demo_delay=0)).router.routes()
        if route.resource is not None
    }
    if ("POST", "/v1/tool-approvals") not in routes:
        return "the decision route POST /v1/tool-approvals is missing (branch approve)"
    asked = ApprovalRequestEvent(approval_id="a", call_id="a", name="t", arguments={})
    if not PatternflyFormatter().format(asked):
        return "the patternfly format renders no approval frame (branch approvefmt)"
    return None


@pytest.fixture
def approvals_ready() -> None:
    """Skip, naming what is missing, until the route and the approval frames are there."""
    missing = _missing_for_approvals()
    if missing:
        pytest.skip(missing)


def card(
    decision: str, status: str | None, disabled: bool, description: str | None = None
) -> dict[str, Any]:
    """The demo's approval card as the driver reads it."""
    return {
        "tool": "restart_service",
        "decision": decision,
        "title": "Approval needed: restart_service",
        "description": description or "Restarts the gateway's replicas one at a time.",
        "arguments": ARGUMENTS_SHOWN,
        "status": status,
        "buttons": [
            {"name": "Deny", "disabled": disabled},
            {"name": "Approve", "disabled": disabled},
        ],
    }


def calls(entry: dict[str, Any]) -> list[tuple[str, str, str, str | None]]:
    """An answer's tool calls: tool, phase, title and the response card's text."""
    return [
        (call["tool"], call["phase"], call["title"], call["response"])
        for call in entry["toolCalls"]
    ]


async def decide_on_the_page(start_service: Any, run_page: Any, button: str) -> dict[str, Any]:
    """Ask the guarded question, click `button` on its card; return the report, checking what
    shows before the click and that one stream and one decision were sent."""
    service = start_service(**DEMO)
    steps = [{"ask": GUARDED_QUESTION, "wait": False}, {"click": button}]
    report: dict[str, Any] = await run_page(
        service.url + "/", steps, screenshot=f"approval-{button.lower()}.png"
    )
    (before,) = report["steps"][0]["before"]
    assert before["state"] == "streaming"
    assert before["approvals"] == [card("", None, disabled=False)]
    assert calls(before) == [
        ("restart_service", "awaiting", "Tool call: restart_service (awaiting approval)", None)
    ]
    assert before["answer"] == ""
    (post,) = report["approvalPosts"]
    assert post["url"] == service.url + "/v1/tool-approvals"
    assert APPROVAL_ID.fullmatch(post["body"]["approval_id"]), post
    assert post["body"] == {
        "approval_id": post["body"]["approval_id"],
        "approved": button == "Approve",
    }
    assert report["streamingPosts"] == [service.url + "/v1/streaming_query?format=patternfly"]
    assert report["consoleErrors"] == []
    return report


async def test_approve_on_the_card_runs_the_tool_and_the_answer_streams_on(
    approvals_ready, start_service, run_page
):
    report = await decide_on_the_page(start_service, run_page, "Approve")
    answer = only_answer(report)
    assert answer["state"] == "done"
    assert answer["approvals"] == [card("approved", "Approved", disabled=True)]
    assert calls(answer) == [
        (
            "restart_service",
            "done",
            "Tool call: restart_service",
            "Tool response: restart_service\nResponse\n" + GUARDED_RESULT,
        )
    ]
    assert answer["answer"] == (
        "I ran restart_service: agent-stream-gateway restarted, 3 replicas ready."
    )
    assert answer["errors"] == answer["failures"] == []


async def test_deny_on_the_card_does_not_run_the_tool_and_the_answer_says_so(
    approvals_ready, start_service, run_page
):
    report = await decide_on_the_page(start_service, run_page, "Deny")
    answer = only_answer(report)
    assert answer["state"] == "done"
    assert answer["approvals"] == [card("denied", "Denied", disabled=True)]
    # the refusal the format sends as the call's failed result, never the tool's own result
    assert calls(answer) == [
        (
            "restart_service",
            "declined",
            "Tool call: restart_service (not run)",
            "Tool response: restart_service\nResponse\n" + REFUSAL,
        )
    ]
    assert GUARDED_RESULT not in report["visibleText"]
    assert answer["answer"] == "I did not run restart_service: it was not approved."
    assert answer["errors"] == answer["failures"] == []


async def test_a_question_asking_to_think_shows_the_reasoning_collapsed_above_the_answer(
    start_service, run_page
):
    if not PatternflyFormatter().format(ReasoningDeltaEvent(text="x")):
        pytest.skip("the patternfly format renders no reasoning frame (branch reasoning)")
    service = start_service(**DEMO)
    steps = [{"ask": "Think: what does this gateway do?"}, {"click": "Reasoning"}]
    report = await run_page(service.url + "/", steps, screenshot="reasoning.png")
    (before,) = report["steps"][1]["before"]
    assert before["reasoning"] == [{"toggle": "Reasoning", "expanded": "false", "text": ""}]
    answer = only_answer(report)
    assert answer["reasoning"] == [{"toggle": "Reasoning", "expanded": "true", "text": REASONING}]
    assert answer["answer"] == ANSWER
    assert answer["state"] == "done"
    assert report["consoleErrors"] == []
