"""Responses stream events (real llama-stack 0.7.3 captures) → normalized events."""

from __future__ import annotations

from typing import Any

import pytest
from structlog.testing import capture_logs

from fakes.responses_upstream import fixture_events
from formatters.events import (
    Document,
    DocumentsEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    ReasoningDeltaEvent,
    ShieldEvent,
    ShieldViolation,
    StepEndEvent,
    StepStartEvent,
    TextContent,
    TextDeltaEvent,
    ToolCallDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnAwaitingInputEvent,
    TurnCompleteEvent,
    UsageEvent,
)
from service.upstream.responses_normalizer import (
    MALFORMED_MESSAGE,
    RESPONSE_FAILED_MESSAGE,
    ResponsesNormalizer,
)
from tests.formatters.cases import APPROVAL_REQUEST, ASKED_CALL
from tests.paths import RESPONSES_FIXTURES

CAPTURES = sorted(RESPONSES_FIXTURES.glob("*.sse"))
HELLO = [
    "Hello ",
    "from ",
    "the ",
    "fake ",
    "model. ",
    "This ",
    "is ",
    "a ",
    "scripted ",
    "answer.",
]
WEATHER = '{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}'
FAKELAND = (
    "Fakeland facts. The capital of Fakeland is Mockville. Fakeland exports rubber ducks and "
    "test fixtures. Its national bird is the stub-tailed parrot."
)
REFUSAL = (
    "I can't answer that. Can I help with something else? "
    "(flagged for: Violent Crimes) (violation type: S1)"
)
TERMINAL = (TurnCompleteEvent, TurnAwaitingInputEvent, ErrorEvent)


def normalize_all(name: str) -> list[Event]:
    normalizer = ResponsesNormalizer()
    return [
        event
        for index, raw in enumerate(fixture_events(name))
        for event in normalizer.normalize(index, raw)
    ]


def normalize(*raws: Any) -> list[Event]:
    normalizer = ResponsesNormalizer()
    return [event for index, raw in enumerate(raws) for event in normalizer.normalize(index, raw)]


def answer(added: int, words: list[str], usage: tuple[int, int]) -> list[Event]:
    """A message item added at event `added`: content part, one delta per word, done, completed."""
    after = added + 2 + len(words)
    return [
        StepStartEvent(chunk=added, step="inference"),
        *[
            TextDeltaEvent(chunk=added + 2 + i, step="inference", text=word)
            for i, word in enumerate(words)
        ],
        StepEndEvent(chunk=after + 1, step="inference"),
        UsageEvent(chunk=after + 2, input_tokens=usage[0], output_tokens=usage[1]),
        TurnCompleteEvent(chunk=after + 2, text="".join(words)),
    ]


def completed(*output: dict[str, Any], usage: dict[str, int] | None = None) -> dict[str, Any]:
    return {"type": "response.completed", "response": {"id": "r", "output": output, "usage": usage}}


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_every_capture_maps_every_event_without_heartbeat_fallbacks(path) -> None:
    normalizer = ResponsesNormalizer()
    events: list[Event] = []
    for index, raw in enumerate(fixture_events(path)):
        produced = normalizer.normalize(index, raw)
        assert all(event.chunk == index for event in produced), (index, produced)
        events += produced
    assert not any(isinstance(event, HeartbeatEvent) for event in events)
    assert isinstance(events[-1], TERMINAL)
    assert sum(isinstance(event, TERMINAL) for event in events) == 1


def test_every_capture_has_a_pinned_test() -> None:
    pinned = {
        "text",
        "slow",
        "long",
        "shield-safe",
        "tool-result",
        "tool",
        "mcp",
        "file_search",
        "shield",
        "fail",
        "fail-mid",
        "fail-drop",
    }
    assert {path.stem for path in CAPTURES} == pinned


def test_text_answer() -> None:
    assert normalize_all("text.sse") == answer(2, HELLO, (3, 10))


def test_answer_after_a_guardrail_that_passed_looks_like_any_answer() -> None:
    assert normalize_all("shield-safe.sse") == answer(2, HELLO, (3, 10))


def test_slow_answer() -> None:
    words = ["Sorry ", "for ", "the ", "wait ", "of ", "8 ", "seconds. ", "Here ", "is "]
    assert normalize_all("slow.sse") == answer(2, [*words, "the ", "answer."], (4, 11))


def test_answer_to_a_tool_result_sent_back() -> None:
    words = ["The ", "tool ", "returned: ", '{"city": ', '"test", ', '"temperature_c": ', "21, "]
    assert normalize_all("tool-result.sse") == answer(2, [*words, '"sky": ', '"clear"}'], (13, 9))


def test_long_answer_streams_one_delta_per_word() -> None:
    events = normalize_all("long.sse")
    deltas = [event for event in events if isinstance(event, TextDeltaEvent)]
    assert [event.chunk for event in deltas] == list(range(4, 304))
    assert deltas[0].text == "alpha0 "
    assert events[-2:] == [
        UsageEvent(chunk=306, input_tokens=6, output_tokens=300),
        TurnCompleteEvent(chunk=306, text="".join(delta.text for delta in deltas)),
    ]
    assert len(events) == 304


def test_client_function_call_ends_the_turn_awaiting_its_result() -> None:
    call = {"call_id": "call_fake_0001", "name": "get_weather"}
    assert normalize_all("tool.sse") == [
        ToolCallDeltaEvent(chunk=2, step="inference", **call, delta=""),
        ToolCallDeltaEvent(chunk=3, step="inference", **call, delta='{"city":'),
        ToolCallDeltaEvent(chunk=4, step="inference", **call, delta=' "test"}'),
        ToolCallEvent(chunk=6, step="inference", **call, arguments={"city": "test"}),
        UsageEvent(chunk=7, input_tokens=7, output_tokens=10),
        TurnAwaitingInputEvent(chunk=7),
    ]


def test_mcp_call_runs_on_the_server_and_its_result_is_answered() -> None:
    call = {"call_id": "fc_697206d5-f79e-4350-890a-7bf5a78ee8ac", "name": "get_weather"}
    events = normalize_all("mcp.sse")
    assert events[:8] == [
        ToolCallDeltaEvent(chunk=6, step="inference", call_id=call["call_id"], delta='{"city":'),
        ToolCallDeltaEvent(chunk=7, step="inference", call_id=call["call_id"], delta=' "test"}'),
        ToolCallEvent(chunk=9, step="inference", **call, arguments={"city": "test"}),
        StepStartEvent(chunk=9, step="tool_execution"),
        ToolCallEvent(chunk=12, step="tool_execution", **call, arguments={"city": "test"}),
        ToolResultEvent(chunk=12, step="tool_execution", **call, content=WEATHER),
        StepEndEvent(chunk=12, step="tool_execution"),
        StepStartEvent(chunk=13, step="inference"),
    ]
    assert events[-2:] == [
        UsageEvent(chunk=28, input_tokens=22, output_tokens=21),
        TurnCompleteEvent(chunk=28, text=f"The tool returned: {WEATHER}"),
    ]
    assert len(events) == 8 + 11 + 3


def test_file_search_runs_on_the_server_and_returns_its_chunks() -> None:
    call_id = "fc_ea31d385-5a4b-42e1-9220-29d6cfc10093"
    events = normalize_all("file_search.sse")
    assert events[:10] == [
        ToolCallDeltaEvent(chunk=2, step="inference", call_id=call_id, delta='{"query"'),
        ToolCallDeltaEvent(chunk=3, step="inference", call_id=call_id, delta=': "capit'),
        ToolCallDeltaEvent(chunk=4, step="inference", call_id=call_id, delta="al of Fa"),
        ToolCallDeltaEvent(chunk=5, step="inference", call_id=call_id, delta='keland"}'),
        ToolCallEvent(
            chunk=7,
            step="inference",
            call_id=call_id,
            name="file_search",
            arguments={"query": "capital of Fakeland"},
        ),
        StepStartEvent(chunk=7, step="tool_execution"),
        ToolCallEvent(
            chunk=11,
            step="tool_execution",
            call_id=call_id,
            name="file_search",
            arguments={"queries": ["capital of Fakeland"]},
        ),
        ToolResultEvent(
            chunk=11,
            step="tool_execution",
            call_id=call_id,
            name="file_search",
            content=[TextContent(text=FAKELAND)],
        ),
        StepEndEvent(chunk=11, step="tool_execution"),
        StepStartEvent(chunk=12, step="inference"),
    ]
    assert not any(isinstance(event, DocumentsEvent) for event in events), "no URL attribute"
    assert events[-2] == UsageEvent(chunk=38, input_tokens=127, output_tokens=32)
    assert isinstance(events[-1], TurnCompleteEvent)
    assert events[-1].text.startswith("The tool returned: file_search tool found 1 chunks:\n")


def test_guardrail_refusal_is_a_shield_violation_plus_its_text() -> None:
    assert normalize_all("shield.sse") == [
        ShieldEvent(
            chunk=2,
            step="shield_call",
            violation=ShieldViolation(
                user_message="I can't answer that. Can I help with something else?",
                metadata={"flagged_categories": "Violent Crimes", "violation_type": "S1"},
            ),
        ),
        TextDeltaEvent(chunk=2, step="inference", text=REFUSAL),
        TurnCompleteEvent(chunk=2, text=REFUSAL),
    ]


def test_response_failed_before_any_output() -> None:
    assert normalize_all("fail.sse") == [
        ErrorEvent(chunk=2, message="fake model: scripted failure")
    ]


@pytest.mark.parametrize("name", ["fail-mid.sse", "fail-drop.sse"])
def test_response_failed_mid_answer(name) -> None:
    words = ["This ", "answer ", "will ", "fail "]
    assert normalize_all(name) == [
        StepStartEvent(chunk=2, step="inference"),
        *[TextDeltaEvent(chunk=4 + i, step="inference", text=w) for i, w in enumerate(words)],
        ErrorEvent(chunk=8, message="An unexpected error occurred while generating the response."),
    ]


@pytest.mark.parametrize(
    "raw", [{"type": "response.brand_new_thing", "sequence_number": 3}, {"no_type": True}]
)
def test_an_event_of_an_unknown_type_is_a_heartbeat_logged_at_debug(raw) -> None:
    with capture_logs() as logs:
        assert ResponsesNormalizer().normalize(4, raw) == [HeartbeatEvent(chunk=4)]
    (entry,) = logs
    assert entry["log_level"] == "debug"
    assert entry["event_type"] == raw.get("type")


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "response.output_text.delta", "delta": 5},
        {"type": "response.output_text.delta"},
        {"type": "response.function_call_arguments.delta", "delta": "{", "item_id": 7},
        {"type": "response.completed"},
        {"type": "response.output_item.added", "item": {"type": "function_call", "name": "f"}},
        {"type": "response.function_call_arguments.done", "item_id": "fc_1"},
        ["not", "an", "object"],
        "a string",
    ],
)
def test_an_event_without_its_types_shape_is_an_upstream_error_logged(raw) -> None:
    with capture_logs() as logs:
        assert ResponsesNormalizer().normalize(4, raw) == [
            ErrorEvent(chunk=4, message=MALFORMED_MESSAGE)
        ]
    (entry,) = logs
    assert entry["log_level"] == "warning"
    assert entry["event_type"] == (raw.get("type") if isinstance(raw, dict) else None)


def test_incomplete_response_reports_truncation_and_its_text() -> None:
    message = {"type": "message", "content": [{"type": "output_text", "text": "Half an"}]}
    raw = completed(message, usage={"input_tokens": 5, "output_tokens": 2})
    raw["type"] = "response.incomplete"
    assert normalize(raw) == [
        UsageEvent(chunk=0, input_tokens=5, output_tokens=2, truncated=True),
        TurnCompleteEvent(chunk=0, text="Half an"),
    ]


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("Rate limit reached", "Rate limit reached"),
        ("", RESPONSE_FAILED_MESSAGE),
        (None, RESPONSE_FAILED_MESSAGE),
        ("x" * 5000, "x" * 2000),
    ],
)
def test_error_events_carry_a_safe_message(message, shown) -> None:
    raw = {"type": "error", "code": "rate_limit", "message": message, "sequence_number": 1}
    assert normalize(raw) == [ErrorEvent(chunk=0, message=shown)]


def test_failed_response_without_an_error_object_still_fails() -> None:
    raw = {"type": "response.failed", "response": {"id": "r", "output": [], "error": None}}
    assert normalize(raw) == [ErrorEvent(chunk=0, message=RESPONSE_FAILED_MESSAGE)]


def test_reasoning_is_kept_apart_from_the_answer() -> None:
    assert normalize(
        {"type": "response.reasoning_text.delta", "delta": "Think.", "item_id": "m"},
        {"type": "response.reasoning_summary_text.delta", "delta": "Sum.", "item_id": "m"},
        {"type": "response.reasoning_text.done", "text": "Think.", "item_id": "m"},
    ) == [
        ReasoningDeltaEvent(chunk=0, step="inference", text="Think."),
        ReasoningDeltaEvent(chunk=1, step="inference", text="Sum."),
    ]


def test_a_streamed_model_refusal_is_answer_text_not_a_shield_verdict() -> None:
    message = {"type": "message", "content": [{"type": "refusal", "refusal": "No."}]}
    assert normalize(
        {"type": "response.refusal.delta", "delta": "No.", "item_id": "m", "content_index": 2},
        completed(message),
    ) == [
        TextDeltaEvent(chunk=0, step="inference", text="No."),
        TurnCompleteEvent(chunk=1, text="No."),
    ]


def test_failed_mcp_call_is_a_failed_tool_result() -> None:
    item = {
        "type": "mcp_call",
        "id": "mcp_1",
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
        "server_label": "fake",
        "error": "tool crashed",
        "output": None,
    }
    events = normalize({"type": "response.output_item.done", "item": item, "output_index": 0})
    assert events[1] == ToolResultEvent(
        chunk=0,
        step="tool_execution",
        call_id="mcp_1",
        name="get_weather",
        content="tool crashed",
        failed=True,
    )


def test_mcp_argument_deltas_are_tool_call_deltas() -> None:
    raw = {"type": "response.mcp_call.arguments.delta", "delta": '{"a"', "item_id": "mcp_1"}
    assert normalize(raw) == [
        ToolCallDeltaEvent(chunk=0, step="inference", call_id="mcp_1", delta='{"a"')
    ]


def test_mcp_approval_request_awaits_the_client() -> None:
    item = {
        "type": "mcp_approval_request",
        "id": "apr_1",
        "name": "delete_pod",
        "arguments": '{"pod": "a"}',
        "server_label": "k8s",
    }
    assert normalize(
        {"type": "response.output_item.done", "item": item, "output_index": 0}, completed(item)
    ) == [ASKED_CALL, APPROVAL_REQUEST, TurnAwaitingInputEvent(chunk=1)]  # the formatters' cases


def test_web_search_call_runs_on_the_server() -> None:
    item = {"type": "web_search_call", "id": "ws_1", "status": "completed"}
    search = {"call_id": "ws_1", "name": "web_search", "arguments": {}}
    assert normalize(
        {"type": "response.output_item.added", "item": item, "output_index": 0},
        {"type": "response.web_search_call.searching", "item_id": "ws_1", "output_index": 0},
        {"type": "response.output_item.done", "item": item, "output_index": 0},
    ) == [
        ToolCallEvent(chunk=0, step="inference", **search),
        StepStartEvent(chunk=0, step="tool_execution"),
        ToolCallEvent(chunk=2, step="tool_execution", **search),
        StepEndEvent(chunk=2, step="tool_execution"),
    ]


def test_file_search_results_with_a_url_are_referenced_documents() -> None:
    results = [
        {
            "attributes": {"docs_url": "https://d/1", "title": "Doc one", "document_id": "d1"},
            "file_id": "file-1",
            "filename": "one.txt",
            "text": "a",
        },
        {
            "attributes": {"url": "https://d/2", "filename": "two.md"},
            "file_id": "file-2",
            "filename": "file-2",
            "text": "b",
        },
        {"attributes": {"filename": "three.txt"}, "file_id": "file-3", "text": "c"},
    ]
    item = {"type": "file_search_call", "id": "fs_1", "queries": ["q"], "results": results}
    events = normalize({"type": "response.output_item.done", "item": item, "output_index": 0})
    assert events[2] == DocumentsEvent(
        chunk=0,
        step="tool_execution",
        documents=[
            Document(url="https://d/1", title="Doc one", document_id="d1"),
            Document(url="https://d/2", title="two.md", document_id="file-2"),
        ],
    )


def test_an_unknown_output_item_kind_does_not_lose_the_completed_turn() -> None:
    raw = completed(
        {"type": "image_generation_call", "id": "ig_1"},
        {"type": "message", "content": [{"type": "output_text", "text": "Done."}]},
        usage={"input_tokens": 1, "output_tokens": 1},
    )
    assert normalize(raw) == [
        UsageEvent(chunk=0, input_tokens=1, output_tokens=1),
        TurnCompleteEvent(chunk=0, text="Done."),
    ]


# OGX 1.5's file_search results, as captured from a real server: the result's own file_id and
# filename are the document's UUID; the name is only in `attributes.filename` and in the answer's
# `file_citation` annotation.
OGX_DOCUMENT = "d4f4ec3e-c861-4d37-9254-39490aa30ea4"


def ogx_file_search(attributes: dict[str, Any]) -> dict[str, Any]:
    result = {
        "attributes": {"document_id": OGX_DOCUMENT, **attributes},
        "file_id": OGX_DOCUMENT,
        "filename": OGX_DOCUMENT,
        "score": 1.18,
        "text": "The capital of Fakeland is Mockville.",
    }
    item = {"type": "file_search_call", "id": "fs_1", "queries": ["q"], "results": [result]}
    return {"type": "response.output_item.done", "item": item, "output_index": 0}


def cited_answer(filename: str) -> dict[str, Any]:
    citation = {"type": "file_citation", "file_id": OGX_DOCUMENT, "filename": filename, "index": 9}
    text = {"type": "output_text", "text": "Mockville.", "annotations": [citation]}
    return completed({"type": "message", "content": [text]})


def test_a_result_named_only_by_its_uuid_is_titled_by_its_url_not_the_uuid() -> None:
    events = normalize(ogx_file_search({"docs_url": "https://d/fakeland"}))
    assert events[2] == DocumentsEvent(
        chunk=0,
        step="tool_execution",
        documents=[
            Document(url="https://d/fakeland", title="https://d/fakeland", document_id=OGX_DOCUMENT)
        ],
    )


def test_a_file_citation_names_the_document_its_result_left_untitled() -> None:
    events = normalize(
        ogx_file_search({"docs_url": "https://d/fakeland"}), cited_answer("fakeland.txt")
    )
    assert events[-2:] == [
        DocumentsEvent(
            chunk=1,
            step="inference",
            documents=[
                Document(url="https://d/fakeland", title="fakeland.txt", document_id=OGX_DOCUMENT)
            ],
        ),
        TurnCompleteEvent(chunk=1, text="Mockville."),
    ]


@pytest.mark.parametrize(
    ("attributes", "citation"),
    [
        ({"docs_url": "https://d/fakeland", "title": "Fakeland handbook"}, "fakeland.txt"),
        ({"docs_url": "https://d/fakeland", "filename": "fakeland.txt"}, "other.txt"),
        ({"docs_url": "https://d/fakeland"}, OGX_DOCUMENT),
        ({"filename": "fakeland.txt"}, "fakeland.txt"),
    ],
    ids=["titled", "named-by-attribute", "citation-names-only-the-uuid", "no-url"],
)
def test_a_file_citation_changes_no_document_that_has_a_name_or_no_url(
    attributes: dict[str, Any], citation: str
) -> None:
    events = normalize(ogx_file_search(attributes), cited_answer(citation))
    assert events[-1:] == [TurnCompleteEvent(chunk=1, text="Mockville.")]
    assert not any(isinstance(e, DocumentsEvent) and e.step == "inference" for e in events)


@pytest.mark.parametrize("kind", ["response.created", "response.in_progress"])
def test_a_started_response_is_not_validated_only_its_shape_checked(kind) -> None:
    """Nothing of `response.created`/`in_progress` is read: its response object is not walked."""
    odd = {"type": kind, "response": {"output": "not a list", "usage": 7}}
    assert ResponsesNormalizer().normalize(4, odd) == []
    with capture_logs():
        assert ResponsesNormalizer().normalize(4, {"type": kind, "response": None}) == [
            ErrorEvent(chunk=4, message=MALFORMED_MESSAGE)
        ]
