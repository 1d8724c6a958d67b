"""Usage in every format's place for it: completed, failed and interrupted turns (exact JSON)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from formatters.a2a import A2aFormatter
from formatters.ag_ui import AgUiFormatter
from formatters.anthropic import AnthropicFormatter
from formatters.base import Formatter
from formatters.events import EndEvent, ErrorEvent, Event, TurnCompleteEvent, UsageEvent
from formatters.frames import Frame
from formatters.lightspeed_01 import Lightspeed01Formatter
from formatters.lightspeed_02 import Lightspeed02Formatter
from formatters.lightspeed_03 import Lightspeed03Formatter
from formatters.lightspeed_04 import Lightspeed04Formatter
from formatters.lightspeed_07 import Lightspeed07Formatter
from formatters.openai import OpenAIFormatter
from formatters.patternfly import PatternflyFormatter
from formatters.raw import RawFormatter
from formatters.responses import ResponsesFormatter
from formatters.usage import UsageSoFar
from formatters.vercel import VercelFormatter
from tests.formatters.cases import CASES, START

USAGE = UsageEvent(chunk=1, input_tokens=12, output_tokens=3)
END = EndEvent(input_tokens=12, output_tokens=3)
COMPLETED: list[Event] = [START, USAGE, TurnCompleteEvent(chunk=1, text="Hi"), END]
FAILED = CASES["usage_then_error"]
ERROR = "500: Internal server error"
TIMEOUT = ErrorEvent(message="Too slow.", source="gateway", code="timeout")
INTERRUPTED = ErrorEvent(message="Stopped.", source="gateway", code="interrupted")


def frames(formatter: Formatter, events: list[Event]) -> list[Frame]:
    return [f for e in events for f in formatter.format(e) if isinstance(f, Frame)]


def epilogue(formatter: Formatter, events: list[Event], error: ErrorEvent) -> list[Frame]:
    """The frames of a stream stopped after `events` (the pipeline's `end` has their usage)."""
    frames(formatter, events)
    return [f for f in formatter.epilogue(error, END) if isinstance(f, Frame)]


def data(frame: Frame) -> Any:
    return json.loads(frame.data)


def test_usage_events_add_up_and_the_last_one_says_truncated() -> None:
    usage = UsageSoFar()
    usage.add(UsageEvent(input_tokens=12, output_tokens=3, truncated=True))
    usage.add(UsageEvent(input_tokens=20, output_tokens=7))
    assert usage == UsageSoFar(input_tokens=32, output_tokens=10, truncated=None)


@pytest.mark.parametrize(
    ("formatter_class", "counts"),
    [
        (PatternflyFormatter, (12, 3)),
        (Lightspeed03Formatter, (12, 3)),
        (Lightspeed04Formatter, (12, 3)),
        (Lightspeed07Formatter, (12, 3)),
        # 0.1.3 and 0.2.0 send placeholders whatever the turn used
        (Lightspeed01Formatter, (0, 0)),
        (Lightspeed02Formatter, (0, 0)),
    ],
)
def test_each_lightspeed_dialect_s_end_has_its_release_s_counts_and_no_quotas(
    formatter_class: type[Formatter], counts: tuple[int, int]
) -> None:
    for events in (COMPLETED, FAILED):
        end = data(frames(formatter_class(), events)[-1])
        assert end["event"] == "end"
        assert (end["data"]["input_tokens"], end["data"]["output_tokens"]) == counts
        assert end["available_quotas"] == {}


def test_raw_sends_the_usage_event_and_the_end_with_its_counts() -> None:
    sent = frames(RawFormatter(), FAILED)
    assert [f.event for f in sent] == ["start", "text_delta", "usage", "turn_error", "end"]
    assert data(sent[2]) == {
        "type": "usage",
        "chunk": 1,
        "input_tokens": 12,
        "output_tokens": 3,
        "truncated": None,
    }
    assert (data(sent[4])["input_tokens"], data(sent[4])["output_tokens"]) == (12, 3)


OPENAI_USAGE = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}


def openai() -> OpenAIFormatter:
    return OpenAIFormatter(include_usage=True, completion_id="chatcmpl-1", created=1, model="m")


def test_openai_s_usage_chunk_ends_a_completed_stream() -> None:
    sent = frames(openai(), COMPLETED)
    assert data(sent[-2]) == {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [],
        "usage": OPENAI_USAGE,
    }
    assert sent[-1].data == "[DONE]"


def test_openai_s_usage_chunk_comes_before_the_error_the_sdks_raise() -> None:
    sent = frames(openai(), FAILED)
    assert [data(f).get("usage") for f in sent[-3:-1]] == [OPENAI_USAGE, None]
    assert data(sent[-3])["choices"] == []
    assert data(sent[-2])["error"]["message"] == ERROR
    assert sent[-1].data == "[DONE]"


def test_openai_sends_no_usage_chunk_without_include_usage_or_before_any_usage() -> None:
    without = frames(OpenAIFormatter(), FAILED)
    assert not any("usage" in f.data for f in without)
    unreported = frames(openai(), CASES["error_mid_stream"])
    assert [f.data[:9] for f in unreported[-2:]] == ['{"error":', "[DONE]"]


def test_an_interrupted_openai_stream_s_closer_knows_the_usage_so_far() -> None:
    sent = epilogue(openai(), FAILED[:3], TIMEOUT)
    assert [data(f).get("usage") for f in sent[:2]] == [OPENAI_USAGE, None]
    assert data(sent[1])["error"]["code"] == "timeout"


RESPONSES_USAGE = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 3,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 15,
}


def test_responses_failed_and_interrupted_responses_carry_the_usage_so_far() -> None:
    failed = data(frames(ResponsesFormatter(), FAILED)[-1])
    assert (failed["type"], failed["response"]["usage"]) == ("response.failed", RESPONSES_USAGE)
    stopped = data(epilogue(ResponsesFormatter(), FAILED[:3], TIMEOUT)[-1])
    assert (stopped["type"], stopped["response"]["usage"]) == ("response.failed", RESPONSES_USAGE)


VERCEL_METADATA = {
    "messageMetadata": {"usage": {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15}}
}


def test_vercel_s_finish_carries_the_usage_as_message_metadata() -> None:
    assert data(frames(VercelFormatter(), COMPLETED)[-2]) == {
        "type": "finish",
        "finishReason": "stop",
        **VERCEL_METADATA,
    }


def test_a_failed_vercel_message_gets_its_usage_before_the_error_the_chat_stops_at() -> None:
    live = frames(VercelFormatter(), FAILED)
    for sent in (live[len(live) - 6 :], epilogue(VercelFormatter(), FAILED[:3], TIMEOUT)):
        assert [data(f)["type"] for f in sent[:3]] == ["text-end", "message-metadata", "error"]
        assert data(sent[1]) == {"type": "message-metadata", **VERCEL_METADATA}
        assert data(sent[-2]) == {"type": "finish", "finishReason": "error", **VERCEL_METADATA}


def test_vercel_s_finish_has_no_metadata_when_no_usage_was_reported() -> None:
    assert data(frames(VercelFormatter(), CASES["error_mid_stream"])[-2]) == {
        "type": "finish",
        "finishReason": "error",
    }


def test_anthropic_sends_the_usage_so_far_in_a_message_delta_before_its_error() -> None:
    sent = frames(AnthropicFormatter(), FAILED)
    assert [(f.event, data(f)) for f in sent[-3:]] == [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": None, "stop_sequence": None},
                "usage": {"input_tokens": 12, "output_tokens": 3},
            },
        ),
        ("error", {"type": "error", "error": {"type": "api_error", "message": ERROR}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    stopped = epilogue(AnthropicFormatter(), FAILED[:3], TIMEOUT)
    assert [f.event for f in stopped] == ["message_delta", "error", "message_stop"]
    assert data(stopped[0])["usage"] == {"input_tokens": 12, "output_tokens": 3}


AG_UI_USAGE = [{"inputTokens": 12, "outputTokens": 3, "totalTokens": 15}]


def test_ag_ui_s_run_finished_and_run_error_carry_usage() -> None:
    finished = data(frames(AgUiFormatter(run_id="r"), COMPLETED)[-1])
    assert (finished["type"], finished["usage"]) == ("RUN_FINISHED", AG_UI_USAGE)
    failed = frames(AgUiFormatter(run_id="r"), FAILED)
    assert data(failed[-1]) == {
        "type": "RUN_ERROR",
        "message": ERROR,
        "code": "upstream_error",
        "usage": AG_UI_USAGE,
    }
    stopped = epilogue(AgUiFormatter(run_id="r"), FAILED[:3], TIMEOUT)
    assert [data(f)["usage"] for f in stopped] == [AG_UI_USAGE]


def test_ag_ui_leaves_usage_out_when_none_was_reported() -> None:
    sent = frames(AgUiFormatter(run_id="r"), CASES["error_mid_stream"])
    assert "usage" not in data(sent[-1])


A2A_USAGE = {"inputTokens": 12, "outputTokens": 3}


def final_metadata(sent: list[Frame]) -> Any:
    return data(sent[-1])["result"]["statusUpdate"]["metadata"]


def test_a2a_s_completed_failed_and_canceled_statuses_carry_usage() -> None:
    completed = final_metadata(frames(A2aFormatter(task_id="t"), COMPLETED))
    assert completed == {"usage": A2A_USAGE, "referencedDocuments": []}
    failed = final_metadata(frames(A2aFormatter(task_id="t"), FAILED))
    assert failed == {"code": "upstream_error", "usage": A2A_USAGE}
    canceled = epilogue(A2aFormatter(task_id="t"), FAILED[:3], INTERRUPTED)
    assert data(canceled[-1])["result"]["statusUpdate"]["status"]["state"] == "TASK_STATE_CANCELED"
    assert final_metadata(canceled) == {"code": "interrupted", "usage": A2A_USAGE}


def test_a2a_s_failed_status_has_no_usage_when_none_was_reported() -> None:
    assert final_metadata(frames(A2aFormatter(task_id="t"), CASES["error_mid_stream"])) == {
        "code": "upstream_error"
    }
