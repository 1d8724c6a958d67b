"""Every installed formatter, over the shared cases: valid SSE, terminal frame last."""

from __future__ import annotations

import copy
import re
from typing import cast

import pytest

from formatters.base import Formatter
from formatters.events import EndEvent, ErrorEvent, HeartbeatEvent
from service.streams.registry import load_registry
from tests.formatters.cases import CASES, DOCS, texts

REGISTRY = load_registry()
EPILOGUE_ERROR = ErrorEvent(message="The answer was lost.", source="gateway", code="producer_lost")
FORMATTERS = [REGISTRY.get(name) for name in REGISTRY.names()]
_FIELD_LINE = re.compile(r"(:.*|(data|event|id|retry)(: ?.*)?)")


def assert_valid_sse_frame(frame: str) -> None:
    """A frame per the WHATWG rules: known field or comment lines, LF only, one blank line."""
    assert frame.endswith("\n\n"), frame
    body = frame[:-2]
    assert "\r" not in frame and "\0" not in frame
    assert body, "empty frame"
    for line in body.split("\n"):
        assert _FIELD_LINE.fullmatch(line), f"not an SSE field line: {line!r}"


def test_the_builtin_formatters_are_installed() -> None:
    assert "patternfly" in REGISTRY.names()


def each_formatter_and_case[T](test: T) -> T:
    """Run `test` for every installed formatter over every shared case."""
    by_case = pytest.mark.parametrize("case", CASES, ids=str)(test)
    by_formatter = pytest.mark.parametrize("formatter_class", FORMATTERS, ids=lambda f: f.name)
    return cast(T, by_formatter(by_case))


@each_formatter_and_case
def test_every_frame_is_valid_sse_and_the_terminal_frame_comes_last(
    formatter_class: type[Formatter], case: str
) -> None:
    formatter = formatter_class()
    per_event = [texts(formatter.format(event)) for event in CASES[case]]
    frames = [frame for event_frames in per_event for frame in event_frames]
    for frame in frames:
        assert_valid_sse_frame(frame)
    assert isinstance(CASES[case][-1], EndEvent)
    failed = any(isinstance(event, ErrorEvent) for event in CASES[case])
    if failed and formatter_class.error_ends_stream:
        assert per_event[-1] == [], "nothing may follow this format's error frame"
        assert frames[-len(per_event[-2]) :] == per_event[-2]
        return
    assert per_event[-1], "the end event must produce the terminal frame"
    assert frames[-len(per_event[-1]) :] == per_event[-1]


@pytest.mark.parametrize("formatter_class", FORMATTERS, ids=lambda f: f.name)
def test_heartbeats_always_produce_a_frame(formatter_class: type[Formatter]) -> None:
    assert texts(formatter_class().format(HeartbeatEvent()))


@pytest.mark.parametrize("formatter_class", FORMATTERS, ids=lambda f: f.name)
def test_formatters_declare_what_the_registry_lists(formatter_class: type[Formatter]) -> None:
    assert formatter_class.name and formatter_class.description
    assert formatter_class.media_type.startswith("text/")


@each_formatter_and_case
def test_the_epilogue_is_what_the_live_formatter_would_send(
    formatter_class: type[Formatter], case: str
) -> None:
    formatter = formatter_class()
    end = EndEvent(referenced_documents=DOCS[:1])
    for event in CASES[case][:-1]:
        formatter.format(event)
        twin = copy.deepcopy(formatter)
        expected = [*twin.format(EPILOGUE_ERROR), *twin.format(end)]
        assert formatter.epilogue(EPILOGUE_ERROR, end) == expected, (case, event)
    # asking changed nothing: the live formatter goes on as its copy would
    twin = copy.deepcopy(formatter)
    assert formatter.format(CASES[case][-1]) == twin.format(CASES[case][-1])
