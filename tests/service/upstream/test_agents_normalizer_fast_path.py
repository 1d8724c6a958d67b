"""The text-delta fast path of the Agents normalizer gives exactly what the wire models give."""

from __future__ import annotations

from typing import Any

import pytest

_FAST_PATH_CHUNKS = [
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
def test_text_delta_fast_path_gives_what_the_wire_models_give(
    raw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.upstream.agents_normalizer as normalizer

    fast = normalizer.normalize_chunk(4, raw)
    monkeypatch.setattr(normalizer, "_inference_text", lambda raw: None)
    assert fast == normalizer.normalize_chunk(4, raw)


def test_a_fast_path_text_delta_is_what_the_constructor_builds_fields_set_included() -> None:
    from formatters.events import TextDeltaEvent
    from service.upstream.agents_normalizer import normalize_chunk

    [event] = normalize_chunk(4, _FAST_PATH_CHUNKS[0])
    built = TextDeltaEvent(chunk=4, step="inference", text="Hi é 🦙")
    assert type(event) is TextDeltaEvent
    assert event == built
    assert event.model_fields_set == built.model_fields_set
