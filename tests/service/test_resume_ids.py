"""Stream ids and the `id:` lines of resumable streams (service/resume/ids.py)."""

from __future__ import annotations

import pytest

from formatters.events import TextDeltaEvent
from formatters.frames import KEEP_ALIVE, Comment, Frame
from formatters.raw import RawFormatter
from service.resume.ids import (
    event_id,
    is_stream_id,
    new_stream_id,
    numbered,
    parse_event_id,
    stamp,
    stamped,
)
from tests.formatters.cases import texts


def test_stream_ids_are_22_url_safe_characters_and_never_repeat() -> None:
    ids = {new_stream_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(stream_id) == 22 and is_stream_id(stream_id) for stream_id in ids)


def test_an_event_id_is_the_stream_id_and_the_sequence() -> None:
    assert event_id("AbCdEfGhIjKlMnOpQrStUv", 17) == "AbCdEfGhIjKlMnOpQrStUv:17"
    assert parse_event_id("AbCdEfGhIjKlMnOpQrStUv:17") == ("AbCdEfGhIjKlMnOpQrStUv", 17)


@pytest.mark.parametrize(
    "text",
    ["", "17", "AbCdEfGhIjKlMnOpQrStUv", "AbCdEfGhIjKlMnOpQrStUv:", "AbCdEfGhIjKlMnOpQrStUv:-1",
     "AbCdEfGhIjKlMnOpQrStUv:01", "short:1", "AbCdEfGhIjKlMnOp/rStUv:1", "a:b:c"],
)  # fmt: skip
def test_ids_that_are_not_ours_do_not_parse(text: str) -> None:
    assert parse_event_id(text) is None


def test_a_data_frame_gets_its_id_as_the_last_line_and_keeps_its_data_lines() -> None:
    frame = Frame('{"event": "token", "data": {"id": 3, "token": "a"}}')
    assert stamped([frame], ["S:4"]) == [
        'data: {"event": "token", "data": {"id": 3, "token": "a"}}\nid: S:4\n\n'
    ]


def test_a_frame_with_an_event_name_and_several_data_lines_keeps_them_all() -> None:
    frame = Frame("one\ntwo", event="note")
    assert stamped([frame], ["S:0"]) == ["event: note\ndata: one\ndata: two\nid: S:0\n\n"]


def test_the_format_s_own_id_line_is_replaced() -> None:
    (frame,) = RawFormatter().format(TextDeltaEvent(chunk=0, step="inference", text="hi"))
    (text,) = texts([frame])
    assert text.startswith("event: text_delta\nid: 0\ndata: ")
    assert stamped([frame], ["S:9"]) == [
        text.replace("id: 0\n", "").replace("\n\n", "\nid: S:9\n\n")
    ]


def test_a_keep_alive_comment_goes_out_bare_with_no_id_and_no_blank_line() -> None:
    assert texts([KEEP_ALIVE]) == [": keep-alive\n\n"]
    assert stamp(KEEP_ALIVE, "S:5") is KEEP_ALIVE
    assert stamped([KEEP_ALIVE, Comment("")], ["S:5", "S:6"]) == [": keep-alive\n", ":\n"]


def test_a_stamped_frame_keeps_a_line_separator_inside_its_data() -> None:
    # The old stamp split frames with str.splitlines, which also breaks at U+2028 and friends.
    frame = Frame("a\u2028b\x85c")
    assert stamped([frame], ["S:1"]) == ["data: a\u2028b\x85c\nid: S:1\n\n"]


def test_ids_number_a_stream_s_frames_from_a_sequence_on() -> None:
    frames: list[Frame | Comment] = [Frame("a"), KEEP_ALIVE, Frame("b")]
    assert stamped(frames, numbered("S", 7)) == [
        "data: a\nid: S:7\n\n",
        ": keep-alive\n",
        "data: b\nid: S:9\n\n",
    ]
