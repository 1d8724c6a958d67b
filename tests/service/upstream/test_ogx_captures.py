"""Responses stream events of a real OGX 1.5 (tests/fixtures/ogx-1.5) → normalized events."""

from __future__ import annotations

import json

import pytest

from fakes.responses_upstream import fixture_events
from formatters.events import (
    Document,
    DocumentsEvent,
    Event,
    HeartbeatEvent,
    ReasoningDeltaEvent,
    StepEndEvent,
    StepStartEvent,
    TextDeltaEvent,
    ToolResultEvent,
    TurnCompleteEvent,
    UsageEvent,
)
from service.upstream.responses_normalizer import ResponsesNormalizer
from tests.paths import OGX_FIXTURES

CAPTURES = sorted(OGX_FIXTURES.glob("*.sse"))
WEATHER = '{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}'


def normalize_all(name: str) -> list[Event]:
    normalizer = ResponsesNormalizer()
    return [
        event
        for index, raw in enumerate(fixture_events(OGX_FIXTURES / name))
        for event in normalizer.normalize(index, raw)
    ]


def test_the_manifest_names_every_capture_and_its_events() -> None:
    manifest = json.loads((OGX_FIXTURES / "manifest.json").read_text())
    assert manifest["server"] == "OGX 1.5.0"
    assert sorted(manifest["files"]) == [path.name for path in CAPTURES]
    assert sorted(manifest["files"]) == [
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
    assert not any(isinstance(event, HeartbeatEvent) for event in events)
    assert isinstance(events[-1], TurnCompleteEvent)
    assert sum(isinstance(event, TurnCompleteEvent) for event in events) == 1


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
