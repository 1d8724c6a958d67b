"""A formatter's epilogue (the frames closing a stream early) comes from a fresh formatter.

It closes what the live one opened (see also test_all_formatters: for every format, at every
point of every case, the frames the live formatter itself would send next).
"""

from __future__ import annotations

from formatters.events import EndEvent, ErrorEvent
from formatters.lightspeed_01 import Lightspeed01Formatter
from formatters.vercel import VercelFormatter
from tests.formatters.cases import CASES, texts

LOST = ErrorEvent(message="The answer was lost.", source="gateway", code="producer_lost")


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
