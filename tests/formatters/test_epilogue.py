"""A formatter's epilogue (the frames closing a stream early) comes from a fresh formatter.

It must be the frames the live formatter itself would send next, for every format, at every
point of every case; and asking for it must not change the live formatter.
"""

from __future__ import annotations

import copy

import pytest

from formatters.base import Formatter
from formatters.events import EndEvent, ErrorEvent
from formatters.lightspeed_01 import Lightspeed01Formatter
from formatters.vercel import VercelFormatter
from service.registry import load_registry
from tests.formatters.cases import CASES, DOCS, texts

REGISTRY = load_registry()
FORMATTERS = [REGISTRY.get(name) for name in REGISTRY.names()]
LOST = ErrorEvent(message="The answer was lost.", source="gateway", code="producer_lost")


@pytest.mark.parametrize("formatter_class", FORMATTERS, ids=lambda f: f.name)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_epilogue_is_what_the_live_formatter_would_send(
    formatter_class: type[Formatter], case: str
) -> None:
    formatter = formatter_class()
    end = EndEvent(referenced_documents=DOCS[:1])
    for event in CASES[case][:-1]:
        formatter.format(event)
        twin = copy.deepcopy(formatter)
        expected = [*twin.format(LOST), *twin.format(end)]
        assert formatter.epilogue(LOST, end) == expected, (case, event)
    # asking changed nothing: the live formatter goes on as its copy would
    twin = copy.deepcopy(formatter)
    assert formatter.format(CASES[case][-1]) == twin.format(CASES[case][-1])


def test_a_vercel_epilogue_closes_the_open_text_block_and_step() -> None:
    formatter = VercelFormatter()
    for event in CASES["text_only"][:3]:  # start, the step, one text delta
        formatter.format(event)
    assert "".join(texts(formatter.epilogue(LOST, EndEvent()))) == (
        'data: {"type":"text-end","id":"text-1"}\n\n'
        'data: {"type":"error","errorText":"The answer was lost."}\n\n'
        'data: {"type":"finish-step"}\n\n'
        'data: {"type":"finish","finishReason":"error"}\n\n'
        "data: [DONE]\n\n"
    )


def test_a_lightspeed_epilogue_s_error_id_counts_the_frames_sent() -> None:
    formatter = Lightspeed01Formatter()
    for event in CASES["text_only"][:-1]:
        formatter.format(event)
    error, _ = texts(formatter.epilogue(LOST, EndEvent()))
    # counted: the step's start, two text deltas, turn_complete (start is not; step end sends none)
    assert error.startswith('data: {"event": "error", "data": {"id": 4, "token": ')
