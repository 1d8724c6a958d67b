"""Text deltas written out by hand give the bytes the formats' dict-and-encoder path gives."""

from __future__ import annotations

import random
from typing import Any

import pytest

import formatters.ag_ui
from formatters.a2a import A2aFormatter
from formatters.ag_ui import AgUiFormatter, RunEvents
from formatters.anthropic import AnthropicFormatter, MessageEvents
from formatters.base import Formatter
from formatters.event_json import SLOT, TextTemplate, compact_json, event_object
from formatters.events import (
    EndEvent,
    ErrorEvent,
    Event,
    HeartbeatEvent,
    StepEndEvent,
    StepStartEvent,
    TextDeltaEvent,
    ToolCallEvent,
    ToolResultEvent,
    TurnCompleteEvent,
)
from formatters.frames import Frame, data_frame, encode
from formatters.openai import ChunkBuilder, OpenAIFormatter
from formatters.raw import text_delta_json
from formatters.responses import ResponseBuilder, ResponsesFormatter
from formatters.vercel import VercelFormatter
from tests.formatters.cases import CASES, START
from tests.formatters.test_lightspeed_01_token_frames import AWKWARD, _random_text


def _formatters() -> dict[str, Any]:
    return {
        "openai": lambda: OpenAIFormatter(completion_id="chatcmpl-1", model="m", created=1),
        "openai-usage": lambda: OpenAIFormatter(
            completion_id="chatcmpl-1", include_usage=True, model="m", created=1
        ),
        "responses": lambda: ResponsesFormatter(stream_id="s", model="m", created_at=1),
        "vercel": VercelFormatter,
        "anthropic": lambda: AnthropicFormatter(message_id="msg_1", model="m"),
        "ag-ui": lambda: AgUiFormatter(thread_id="t", run_id="r"),
        "a2a": lambda: A2aFormatter(task_id="t", context_id="c", rpc_id=1),
        "a2a-own-context": lambda: A2aFormatter(task_id="t", rpc_id="r"),
    }


SLOW_PATHS = [
    (ChunkBuilder, "text_json"),
    (ResponseBuilder, "text_delta_json"),
    (VercelFormatter, "_text_json"),
    (MessageEvents, "text_json"),
    (RunEvents, "text_json"),
    (A2aFormatter, "_text_json"),
]


def _texts() -> list[str]:
    rng = random.Random(16)
    return [text for text in AWKWARD if text] + [_random_text(rng) or "x" for _ in range(300)]


def _turn(texts: list[str]) -> list[Event]:
    """A turn whose text comes in deltas, broken by a tool call, a heartbeat and a new step."""
    half = len(texts) // 2
    deltas = [TextDeltaEvent(chunk=i, step="inference", text=t) for i, t in enumerate(texts)]
    call = ToolCallEvent(chunk=half, step="tool_execution", call_id="c1", name="f", arguments={})
    return [
        START,
        StepStartEvent(chunk=0, step="inference"),
        *deltas[:half],
        HeartbeatEvent(),
        StepEndEvent(chunk=half, step="inference"),
        call,
        ToolResultEvent(chunk=half, step="tool_execution", call_id="c1", name="f", content="ok"),
        StepStartEvent(chunk=half, step="inference"),
        TextDeltaEvent(chunk=half, step="inference", text=""),
        *deltas[half:],
        TurnCompleteEvent(chunk=len(texts), text="".join(texts)),
        EndEvent(),
    ]


def _bytes(formatter: Formatter, events: list[Event]) -> str:
    return encode([frame for event in events for frame in formatter.format(event)])


@pytest.fixture(autouse=True)
def made_ids(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """AG-UI's message ids in order of making, so that two runs of a turn can be compared."""
    made: list[str] = []

    def new_id() -> str:
        made.append(f"id-{len(made)}")
        return made[-1]

    monkeypatch.setattr(formatters.ag_ui, "new_id", new_id)
    return made


TURNS = {
    "awkward": _turn(_texts()),
    "failed": [*_turn(["a", "b"])[:-2], ErrorEvent(chunk=9, message="boom"), EndEvent()],
    **CASES,
}


@pytest.mark.parametrize("turn", sorted(TURNS))
@pytest.mark.parametrize("name", sorted(_formatters()))
def test_the_written_out_text_deltas_are_the_encoders_bytes(
    name: str, turn: str, monkeypatch: pytest.MonkeyPatch, made_ids: list[str]
) -> None:
    make = _formatters()[name]
    fast = _bytes(make(), TURNS[turn])
    made_ids.clear()
    for owner, method in SLOW_PATHS:
        monkeypatch.setattr(owner, method, lambda self, event: None)
    assert fast == _bytes(make(), TURNS[turn])


def test_the_written_out_text_deltas_are_taken() -> None:
    """Each format answers a text delta in an open block by hand (not through its payloads)."""
    events = TURNS["awkward"][:4]
    for name, make in _formatters().items():
        formatter = make()
        for event in events[:-1]:
            formatter.format(event)
        hooks = [getattr(formatter, "_chunks", None), getattr(formatter, "builder", None)]
        hooks += [getattr(formatter, "_events", None), formatter]
        written = [
            getattr(hook, method)(events[-1])
            for hook in hooks
            if hook is not None
            for owner, method in SLOW_PATHS
            if isinstance(hook, owner)
        ]
        assert len(written) == 1 and written[0] is not None, name


def test_raw_text_deltas_are_the_encoders_bytes() -> None:
    rng = random.Random(7)
    for text in [*AWKWARD, *(_random_text(rng) for _ in range(500))]:
        for chunk in (None, 0, 7, 2**70):
            for step in (None, "inference", 'odd "step"\n'):
                event = TextDeltaEvent(chunk=chunk, step=step, text=text)
                assert text_delta_json(event) == compact_json(event_object(event))


def test_a_template_is_the_encoders_bytes_with_the_text_in_the_slot() -> None:
    payload = {"a": [1, None, True], "b": SLOT, "c": {"d": 1.5}}
    template = TextTemplate.of(payload)
    assert template is not None
    for text in AWKWARD:
        assert template.fill(text) == compact_json({**payload, "b": text})


@pytest.mark.parametrize(
    "payload",
    [
        {"a": "no slot"},
        {"a": SLOT, "b": SLOT},
        {"model": 'x"' + SLOT, "b": SLOT},  # the slot's JSON inside another string, escaped
    ],
)
def test_a_payload_without_exactly_one_slot_has_no_template(payload: dict[str, str]) -> None:
    assert TextTemplate.of(payload) is None


def test_a_model_named_like_the_slot_falls_back_to_the_encoder() -> None:
    formatter = OpenAIFormatter(model=SLOT, completion_id="chatcmpl-1", created=1)
    frames = formatter.format(TextDeltaEvent(chunk=0, step="inference", text="hi"))
    assert encode(frames) == (
        'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,'
        '"model":"\\ue000agent-stream-gateway text\\ue000","choices":[{"index":0,'
        '"delta":{"content":"hi"},"logprobs":null,"finish_reason":null}]}\n\n'
    )


def test_a_data_frame_is_the_frame_of_its_data() -> None:
    for text in AWKWARD:
        made = data_frame(text)
        assert (
            type(made) is Frame and made == Frame(text) and encode([made]) == encode([Frame(text)])
        )
