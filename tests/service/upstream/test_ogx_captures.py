"""Responses stream events of a real OGX 1.5 (tests/fixtures/ogx-1.5) → normalized events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fakes.responses_upstream import fixture_events
from formatters.events import (
    ApprovalRequestEvent,
    Document,
    DocumentsEvent,
    Event,
    HeartbeatEvent,
    ReasoningDeltaEvent,
    StepEndEvent,
    StepStartEvent,
    TextDeltaEvent,
    ToolCallDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnAwaitingInputEvent,
    TurnCompleteEvent,
    UsageEvent,
)
from service.upstream.responses_normalizer import ResponsesNormalizer
from tests.paths import OGX_FIXTURES

CAPTURES = sorted(OGX_FIXTURES.glob("*.sse"))
WEATHER = '{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}'
APPROVAL_ID = "approval_12961518-6e9f-4448-8cc5-5b59350c850e"
PAUSED = ("approval_request.sse",)
"""Captures of a turn that waits for the client: it ends `turn_awaiting_input`, not complete."""


def normalize_all(name: str) -> list[Event]:
    normalizer = ResponsesNormalizer()
    return [
        event
        for index, raw in enumerate(fixture_events(OGX_FIXTURES / name))
        for event in normalizer.normalize(index, raw)
    ]


def request_of(name: str) -> dict[str, Any]:
    """The recorded request body of one capture (manifest.json)."""
    manifest = json.loads((OGX_FIXTURES / "manifest.json").read_text())
    return dict(manifest["files"][name]["request"]["json"])


def test_the_manifest_names_every_capture_and_its_events() -> None:
    manifest = json.loads((OGX_FIXTURES / "manifest.json").read_text())
    assert manifest["server"] == "OGX 1.5.0"
    assert sorted(manifest["files"]) == [path.name for path in CAPTURES]
    assert sorted(manifest["files"]) == [
        "approval_approved.sse",
        "approval_denied.sse",
        "approval_request.sse",
        "file_search.sse",
        "long.sse",
        "mcp.sse",
        "reasoning.sse",
        "text.sse",
    ]
    for path in CAPTURES:
        events = [raw["type"] for raw in fixture_events(path)]
        assert manifest["files"][path.name]["events"] == events, path.name


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_every_capture_maps_every_event_and_ends_once(path) -> None:
    events = normalize_all(path.name)
    end = TurnAwaitingInputEvent if path.name in PAUSED else TurnCompleteEvent
    assert not any(isinstance(event, HeartbeatEvent) for event in events)
    assert isinstance(events[-1], end)
    ends = (TurnCompleteEvent, TurnAwaitingInputEvent)
    assert sum(isinstance(event, ends) for event in events) == 1


def test_text_deltas_come_re_split_a_words_space_leading_the_next() -> None:
    words = ["Hello", " from", " the", " fake", " model.", " This", " is", " a", " scripted"]
    assert normalize_all("text.sse") == [
        StepStartEvent(chunk=2, step="inference"),
        *[
            TextDeltaEvent(chunk=4 + i, step="inference", text=word)
            for i, word in enumerate([*words, " answer."])
        ],
        StepEndEvent(chunk=15, step="inference"),
        UsageEvent(chunk=16, input_tokens=3, output_tokens=10),
        TurnCompleteEvent(chunk=16, text="Hello from the fake model. This is a scripted answer."),
    ]


def test_file_search_results_named_by_uuid_are_documents_titled_by_their_attributes() -> None:
    events = normalize_all("file_search.sse")
    documents = [event for event in events if isinstance(event, DocumentsEvent)]
    assert documents == [
        DocumentsEvent(
            chunk=9,
            step="tool_execution",
            documents=[
                Document(
                    url="https://docs.example.com/fakeland-handbook",
                    title="Fakeland handbook",
                    document_id="8d6ebf9f-89f9-44fe-8467-c57b3d4087bb",
                ),
                Document(
                    url="https://docs.example.com/mockonia-atlas",
                    title="Mockonia atlas",
                    document_id="09c039b4-51aa-4c77-848f-b87ff085b981",
                ),
            ],
        )
    ]
    assert events[-2:] == [
        UsageEvent(chunk=23, input_tokens=365, output_tokens=10),
        TurnCompleteEvent(
            chunk=23, text="The tool returned: The capital of Fakeland is Mockville."
        ),
    ]


def test_mcp_call_runs_on_the_server_and_its_result_is_answered() -> None:
    events = normalize_all("mcp.sse")
    results = [event for event in events if isinstance(event, ToolResultEvent)]
    assert [(r.chunk, r.name, r.content, r.failed) for r in results] == [
        (12, "get_weather", WEATHER, False)
    ]
    assert events[-1] == TurnCompleteEvent(chunk=28, text=f"The tool returned: {WEATHER}")


def test_reasoning_streams_on_the_message_before_it_and_its_reasoning_item_adds_nothing() -> None:
    """OGX streams the reasoning deltas on the message's id before the message is added; the
    `reasoning` item it adds after the message (its whole text again) is not a second copy."""
    thought = ["The ", "user ", "wants ", "a ", "greeting. ", "I ", "will ", "say ", "hello."]
    words = [" from", " the", " fake", " model.", " This", " is", " a", " scripted", " answer."]
    assert normalize_all("reasoning.sse") == [
        *[
            ReasoningDeltaEvent(chunk=3 + i, step="inference", text=text)
            for i, text in enumerate(thought)
        ],
        StepStartEvent(chunk=12, step="inference"),
        *[
            TextDeltaEvent(chunk=14 + i, step="inference", text=word)
            for i, word in enumerate(["Hello", *words])
        ],
        StepEndEvent(chunk=27, step="inference"),
        UsageEvent(chunk=30, input_tokens=3, output_tokens=10),
        TurnCompleteEvent(chunk=30, text="Hello from the fake model. This is a scripted answer."),
    ]
    kinds = [raw["type"] for raw in fixture_events(OGX_FIXTURES / "reasoning.sse")]
    assert kinds[2:4] == ["response.content_part.added", "response.reasoning_text.delta"]
    assert kinds[-5:] == [
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.output_item.done",
        "response.completed",
    ]


def _arguments_streamed(chunk: int, item_id: str) -> list[Event]:
    """OGX streams a guarded call's arguments under an `fc_` item id no output item has."""
    return [
        ToolCallDeltaEvent(chunk=chunk, step="inference", call_id=item_id, delta='{"city":'),
        ToolCallDeltaEvent(chunk=chunk + 1, step="inference", call_id=item_id, delta=' "test"}'),
    ]


def test_a_guarded_mcp_call_is_a_tool_call_asking_approval_and_the_turn_awaits_input() -> None:
    assert normalize_all("approval_request.sse") == [
        *_arguments_streamed(6, "fc_c490835e-8c05-4032-aaf8-367674bfb052"),
        ToolCallEvent(
            chunk=10,
            step="inference",
            call_id=APPROVAL_ID,
            name="get_weather",
            arguments={"city": "test"},
        ),
        ApprovalRequestEvent(
            chunk=10,
            step="inference",
            approval_id=APPROVAL_ID,
            call_id=APPROVAL_ID,
            name="get_weather",
            arguments={"city": "test"},
            server_label="fake",
        ),
        UsageEvent(chunk=11, input_tokens=7, output_tokens=1),
        TurnAwaitingInputEvent(chunk=11),
    ]


def test_the_continuation_sends_the_request_items_copy_with_the_decision() -> None:
    """On a conversation OGX finds the request only in the input (it asks again without it)."""
    asked, approved = request_of("approval_request.sse"), request_of("approval_approved.sse")
    item = next(
        raw["item"]
        for raw in fixture_events(OGX_FIXTURES / "approval_request.sse")
        if raw["type"] == "response.output_item.done"
        and raw["item"]["type"] == "mcp_approval_request"
    )
    assert item == {
        "arguments": '{"city": "test"}',
        "id": APPROVAL_ID,
        "name": "get_weather",
        "server_label": "fake",
        "type": "mcp_approval_request",
    }
    assert asked["tools"] == approved["tools"]
    assert asked["tools"][0]["require_approval"] == "always"
    assert approved["conversation"] == asked["conversation"]
    assert approved["input"] == [
        item,
        {"type": "mcp_approval_response", "approval_request_id": APPROVAL_ID, "approve": True},
    ]


def test_an_approved_continuation_runs_the_tool_and_answers_with_its_result() -> None:
    events = normalize_all("approval_approved.sse")
    call_id = "fc_2dad3921-b0a3-42d1-9170-7e80f40fc6d2"
    assert [event for event in events if isinstance(event, ApprovalRequestEvent)] == []
    assert [event for event in events if isinstance(event, ToolResultEvent)] == [
        ToolResultEvent(
            chunk=12, step="tool_execution", call_id=call_id, name="get_weather", content=WEATHER
        )
    ]
    assert events[-1] == TurnCompleteEvent(chunk=28, text=f"The tool returned: {WEATHER}")


def test_a_denied_continuation_runs_no_tool_and_the_model_says_nothing() -> None:
    """OGX drops the denied call and ends the response: no second model call, no message."""
    request_item, decision = request_of("approval_denied.sse")["input"]
    assert decision == {
        "type": "mcp_approval_response",
        "approval_request_id": request_item["id"],
        "approve": False,
        "reason": "Not today.",
    }
    assert normalize_all("approval_denied.sse") == [
        *_arguments_streamed(6, "fc_a64914f4-341e-4aa3-9c05-94848c8914eb"),
        UsageEvent(chunk=9, input_tokens=7, output_tokens=1),
        TurnCompleteEvent(chunk=9, text=""),
    ]
