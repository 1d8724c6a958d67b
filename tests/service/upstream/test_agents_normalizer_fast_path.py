"""The text-delta fast path of the Agents normalizer gives exactly what the wire models give."""

from __future__ import annotations

from typing import Any

import pytest

_FAST_PATH_CHUNKS: list[Any] = [
    {
        "event": {
            "payload": {
                "event_type": "step_progress",
                "step_type": "inference",
                "step_id": "s",
                "delta": {"type": "text", "text": "Hi é 🦙"},
            }
        }
    },
    {
        "event": {
            "payload": {
                "event_type": "step_progress",
                "step_type": "inference",
                "delta": {"type": "text", "text": ""},
            }
        },
        "extra": 1,
    },
    {
        "event": {
            "payload": {
                "event_type": "step_progress",
                "step_type": "inference",
                "delta": {"type": "text", "text": 5},
            }
        }
    },
    {
        "event": {
            "payload": {
                "event_type": "step_progress",
                "step_type": "inference",
                "delta": {"type": "text"},
            }
        }
    },
    {
        "event": {
            "payload": {
                "event_type": "step_progress",
                "step_type": "inference",
                "delta": {"type": "image"},
            }
        }
    },
    {
        "event": {
            "payload": {
                "event_type": "step_progress",
                "step_type": "tool_execution",
                "delta": {"type": "text", "text": "x"},
            }
        }
    },
    {
        "event": {
            "payload": {
                "event_type": "step_progress",
                "step_type": 3,
                "delta": {"type": "text", "text": "x"},
            }
        }
    },
    {"event": {"payload": {"event_type": "step_progress", "delta": {"type": "text", "text": "x"}}}},
    {
        "event": {
            "payload": {"event_type": "step_progress", "step_type": "inference", "delta": None}
        }
    },
    {
        "event": {
            "payload": {"event_type": "step_progress", "step_type": "inference", "delta": ["text"]}
        }
    },
    {
        "event": {
            "payload": {
                "event_type": "step_start",
                "step_type": "inference",
                "delta": {"type": "text", "text": "x"},
            }
        }
    },
    {"event": {"payload": "step_progress"}},
    {"event": None},
    {"error": {"message": "boom"}, "event": {"payload": {"event_type": "step_progress"}}},
    ["event"],
    "text",
    None,
]


@pytest.mark.parametrize("raw", _FAST_PATH_CHUNKS)
def test_text_delta_fast_path_gives_what_the_wire_models_give(raw: Any) -> None:
    from service.upstream.agents_normalizer import normalize_chunk, normalize_other

    assert normalize_chunk(4, raw) == normalize_other(4, raw)


def test_a_fast_path_text_delta_is_what_the_constructor_builds_fields_set_included() -> None:
    from formatters.events import TextDeltaEvent
    from service.upstream.agents_normalizer import normalize_chunk

    [event] = normalize_chunk(4, _FAST_PATH_CHUNKS[0])
    built = TextDeltaEvent(chunk=4, step="inference", text="Hi é 🦙")
    assert type(event) is TextDeltaEvent
    assert event == built
    assert event.model_fields_set == built.model_fields_set


_TEXT_DELTA: dict[str, Any] = _FAST_PATH_CHUNKS[0]
_ADAPTER_CHUNKS = [
    *_FAST_PATH_CHUNKS,
    {**_TEXT_DELTA, "sequence": 123456789012345678901},  # orjson reads it as a float
    {**_TEXT_DELTA, "error": {"message": "boom"}},  # a chunk with an error is the error
    {
        "event": {
            "payload": {
                "event_type": "step_progress",
                "step_type": "inference",
                "delta": {
                    "type": "tool_call",
                    "parse_status": "succeeded",
                    "tool_call": {
                        "call_id": "c1",
                        "tool_name": "count",
                        "arguments": {"n": 123456789012345678901},
                    },
                },
            }
        }
    },
]


@pytest.mark.parametrize("raw", _ADAPTER_CHUNKS)
def test_the_adapter_gives_what_json_loads_and_the_normalizer_give(raw: Any) -> None:
    import json

    from formatters.events import Event
    from service.upstream.agents import add_chunk
    from service.upstream.agents_normalizer import normalize_chunk

    text = json.dumps(raw)
    batch: list[Event] = []
    add_chunk(batch, 4, text)
    expected = normalize_chunk(4, json.loads(text))
    assert batch == expected
    assert repr(batch) == repr(expected)  # 123456789012345678901 stays an int, as json.loads has it
