"""The lightspeed token frames (0.1, 0.7), written out by hand, are `json.dumps` of the dict."""

from __future__ import annotations

import json
import random

import pytest

from formatters.events import StartEvent, TextDeltaEvent
from formatters.frames import encode_frame
from formatters.lightspeed_01 import Lightspeed01Formatter, start_frame
from formatters.lightspeed_07 import Lightspeed07Formatter

AWKWARD = [
    "",
    "plain ascii",
    'quotes " and backslashes \\ and /slashes/',
    "new\nline\r\ttab\b\f and \x00\x01\x1f\x7f controls",
    "non-ASCII: é ü ß 日本語 Ωμέγα",
    "astral: 🦙🚀 \U0010ffff",
    "lone surrogates: \ud800 \udfff \udbff\udc00",
    "\u2028\u2029 line separators",
    '{"event": "token"}',
    "x" * 10_000,
]


def _reference(name: str, frame_id: int, token: str, role: str | None) -> str:
    """The frame as lightspeed-stack builds it: `json.dumps` of the dict, default separators."""
    data: dict[str, object] = {"id": frame_id}
    if role is not None:
        data["role"] = role
    data["token"] = token
    return f"data: {json.dumps({'event': name, 'data': data})}\n\n"


def _random_text(rng: random.Random) -> str:
    alphabet = [chr(c) for c in range(0, 0x80)] + ["é", "日", "🦙", "\ud83e", "\udd99", "\u2028"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))


@pytest.mark.parametrize("token", AWKWARD)
@pytest.mark.parametrize("role", [None, "inference", "tool_execution", "shield_call", "é\n"])
@pytest.mark.parametrize("name", ["token", "tool_call", "heartbeat", "turn_complete", "error"])
def test_token_frame_equals_json_dumps_of_the_dict(name: str, role: str | None, token: str) -> None:
    formatter = Lightspeed01Formatter()
    formatter._id = 7
    assert encode_frame(formatter._token(name, token, role)) == _reference(name, 7, token, role)


def test_token_frames_equal_json_dumps_for_random_text_and_ids() -> None:
    rng = random.Random(8)
    formatter = Lightspeed01Formatter()
    for _ in range(2_000):
        formatter._id = rng.choice([0, 1, 9, 10, 12345, 2**40, rng.randrange(10**6)])
        token, role = _random_text(rng), rng.choice([None, _random_text(rng)])
        assert encode_frame(formatter._token("token", token, role)) == _reference(
            "token", formatter._id, token, role
        )


@pytest.mark.parametrize("token", AWKWARD)
@pytest.mark.parametrize("name", ["token", "turn_complete"])
def test_lightspeed_07_numbered_frames_equal_json_dumps_of_the_dict(name: str, token: str) -> None:
    formatter = Lightspeed07Formatter()
    frames = [formatter._numbered(name, token) for _ in range(12)]
    assert [encode_frame(frame) for frame in frames] == [
        _reference(name, number, token, None) for number in range(12)
    ]


def test_lightspeed_07_numbered_frames_equal_json_dumps_for_random_text() -> None:
    rng = random.Random(9)
    formatter = Lightspeed07Formatter()
    for number in range(2_000):
        token = _random_text(rng)
        assert encode_frame(formatter._numbered("token", token)) == _reference(
            "token", number, token, None
        )


@pytest.mark.parametrize("text", AWKWARD)
@pytest.mark.parametrize("step", [None, "", "inference", "tool_execution", "é\n"])
def test_a_text_delta_frame_equals_json_dumps_of_the_dict(text: str, step: str | None) -> None:
    formatter = Lightspeed01Formatter()
    formatter._id = 12
    [frame] = formatter._text_delta(TextDeltaEvent(text=text, step=step))
    assert encode_frame(frame) == _reference("token", 12, text, step or "inference")


@pytest.mark.parametrize("conversation_id", AWKWARD)
def test_the_start_frame_equals_json_dumps_of_the_dict(conversation_id: str) -> None:
    expected = json.dumps({"event": "start", "data": {"conversation_id": conversation_id}})
    assert encode_frame(start_frame(conversation_id)) == f"data: {expected}\n\n"
    [frame] = Lightspeed01Formatter().format(StartEvent(conversation_id=conversation_id))
    assert frame == start_frame(conversation_id)
