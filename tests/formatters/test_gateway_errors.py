"""The gateway's own errors in every lightspeed dialect: `{id, token, response, cause}`, exactly."""

from __future__ import annotations

import json

import pytest

from formatters.base import Formatter
from formatters.events import EndEvent, ErrorEvent, Event, StartEvent, TextDeltaEvent
from formatters.lightspeed_01 import Lightspeed01Formatter
from formatters.lightspeed_02 import Lightspeed02Formatter
from formatters.lightspeed_03 import Lightspeed03Formatter
from formatters.patternfly import PatternflyFormatter
from service.resume.producer import abandoned, interrupted, producer_lost, store_lost, too_large
from service.streams.pipeline import drained, read_failed, timed_out
from service.upstream import LOST_UPSTREAM, TOO_LARGE, TRUNCATED, UpstreamStreamError
from tests.formatters.cases import texts

DIALECTS: dict[str, type[Formatter]] = {
    "patternfly": PatternflyFormatter,
    "lightspeed-0.1": Lightspeed01Formatter,
    "lightspeed-0.2": Lightspeed02Formatter,
    "lightspeed-0.3": Lightspeed03Formatter,
}

# each gateway error as the service makes it, and its frame's `data` (after one token frame)
GATEWAY_ERRORS: dict[str, tuple[ErrorEvent, str]] = {
    "timeout": (
        timed_out(300).error,
        '{"id": 1, "token": "The answer took longer than the 300 s this service allows.", '
        '"response": "The answer took too long", '
        '"cause": "The answer took longer than the 300 s this service allows."}',
    ),
    "drained": (
        drained().error,
        '{"id": 1, "token": "The service is restarting and ended this answer early; please ask '
        'again.", "response": "The service is restarting", "cause": "The service is restarting '
        'and ended this answer early; please ask again."}',
    ),
    "internal": (
        read_failed(RuntimeError("a bug")).error,
        '{"id": 1, "token": "The service failed while streaming the answer.", '
        '"response": "The service failed", '
        '"cause": "The service failed while streaming the answer."}',
    ),
    "lost upstream": (
        read_failed(UpstreamStreamError(LOST_UPSTREAM)).error,
        '{"id": 1, "token": "The connection to the agent was lost before the answer was '
        'complete.", "response": "The answer was cut short", "cause": "The connection to the '
        'agent was lost before the answer was complete."}',
    ),
    "truncated upstream": (
        read_failed(UpstreamStreamError(TRUNCATED)).error,
        '{"id": 1, "token": "The agent\'s stream ended before the answer was complete.", '
        '"response": "The answer was cut short", '
        '"cause": "The agent\'s stream ended before the answer was complete."}',
    ),
    "upstream event too large": (
        read_failed(UpstreamStreamError(TOO_LARGE, "upstream_error")).error,
        '{"id": 1, "token": "The agent sent an event larger than the 16 MiB this service '
        'accepts.", "response": "The agent failed", "cause": "The agent sent an event larger '
        'than the 16 MiB this service accepts."}',
    ),
    "budget": (
        too_large(1000).error,
        '{"id": 1, "token": "The answer grew past the 1000 bytes this service keeps for one '
        'stream.", "response": "The answer was too long", "cause": "The answer grew past the '
        '1000 bytes this service keeps for one stream."}',
    ),
    "store unavailable": (
        store_lost(),
        '{"id": 1, "token": "The service lost the store that keeps this answer; please ask '
        'again.", "response": "The answer was lost", "cause": "The service lost the store that '
        'keeps this answer; please ask again."}',
    ),
    "producer lost": (
        producer_lost(),
        '{"id": 1, "token": "The service instance running this answer stopped; please ask '
        'again.", "response": "The answer was lost", "cause": "The service instance running '
        'this answer stopped; please ask again."}',
    ),
    "interrupted": (
        interrupted().error,
        '{"id": 1, "token": "The answer was interrupted.", '
        '"response": "The answer was interrupted", "cause": "The answer was interrupted."}',
    ),
    "abandoned": (
        abandoned(60).error,
        '{"id": 1, "token": "Nobody read this answer for 60 s, so it was stopped.", '
        '"response": "The answer was stopped", '
        '"cause": "Nobody read this answer for 60 s, so it was stopped."}',
    ),
}

START = 'data: {"event": "start", "data": {"conversation_id": "c0ffee"}}\n\n'
TOKEN_WITH_ROLE = (
    'data: {"event": "token", "data": {"id": 0, "role": "inference", "token": "Hi"}}\n\n'
)
END = (
    'data: {"event": "end", "data": {"referenced_documents": [], "truncated": null, '
    '"input_tokens": 0, "output_tokens": 0}, "available_quotas": {}}\n\n'
)
# what each dialect sends around the error: 0.3 drops `role` and starts `end` with rag_chunks
AROUND: dict[str, tuple[str, str]] = {
    "patternfly": (START + TOKEN_WITH_ROLE, END),
    "lightspeed-0.1": (START + TOKEN_WITH_ROLE, END),
    "lightspeed-0.2": (START + TOKEN_WITH_ROLE, END),
    "lightspeed-0.3": (
        START + 'data: {"event": "token", "data": {"id": 0, "token": "Hi"}}\n\n',
        END.replace(
            '"data": {"referenced_documents"', '"data": {"rag_chunks": [], "referenced_documents"'
        ),
    ),
}


# patternfly's interrupt is no error but an `interrupted` frame (tests/formatters/test_patternfly.py)
EVERY_DIALECT_AND_ERROR = pytest.mark.parametrize(
    ("dialect", "kind"),
    [
        (dialect, kind)
        for dialect in DIALECTS
        for kind in GATEWAY_ERRORS
        if (dialect, kind) != ("patternfly", "interrupted")
    ],
)


def stream(dialect: str, error: ErrorEvent) -> str:
    """The body a dialect sends for: start, one answer token, `error`, end."""
    formatter = DIALECTS[dialect]()
    events: list[Event] = [
        StartEvent(conversation_id="c0ffee"),
        TextDeltaEvent(chunk=0, step="inference", text="Hi"),
        error,
        EndEvent(),
    ]
    return "".join(frame for event in events for frame in texts(formatter.format(event)))


@EVERY_DIALECT_AND_ERROR
def test_a_gateway_error_frame_carries_response_and_cause_after_id_and_token(
    dialect: str, kind: str
) -> None:
    error, data = GATEWAY_ERRORS[kind]
    before, after = AROUND[dialect]
    assert stream(dialect, error) == (
        f'{before}data: {{"event": "error", "data": {data}}}\n\n{after}'
    )


@pytest.mark.parametrize("dialect", [name for name in DIALECTS if name != "patternfly"])
def test_an_upstream_error_chunk_keeps_the_releases_frame(dialect: str) -> None:
    before, after = AROUND[dialect]
    error = ErrorEvent(chunk=1, message="500: Internal server error")
    assert stream(dialect, error) == (
        f'{before}data: {{"event": "error", "data": {{"id": 1, '
        f'"token": "500: Internal server error"}}}}\n\n{after}'
    )


def ansible_chatbot_alerts(body: str) -> list[tuple[object, object]]:
    """The danger alerts the Ansible Lightspeed chatbot shows for a stream body.

    Its rule (ansible_ai_connect_chatbot/src/useChatbot/useChatbot.ts, `onmessage`): a message
    without an SSE event name is `JSON.parse(msg.data)`; for `event == "error"` the alert's title
    is `data.response` and its text `data.cause` (undefined when absent: None here).
    """
    alerts = []
    for block in body.split("\n\n"):
        lines = [line for line in block.split("\n") if line]
        assert not any(line.startswith("event:") for line in lines), block
        data = "\n".join(line.removeprefix("data: ") for line in lines if line.startswith("data:"))
        if not data:
            continue
        message = json.loads(data)
        if message["event"] == "error":
            alerts.append((message["data"].get("response"), message["data"].get("cause")))
    return alerts


@EVERY_DIALECT_AND_ERROR
def test_the_ansible_chatbot_shows_a_gateway_error_as_a_titled_alert_with_its_text(
    dialect: str, kind: str
) -> None:
    error, _ = GATEWAY_ERRORS[kind]
    ((title, text),) = ansible_chatbot_alerts(stream(dialect, error))
    assert isinstance(title, str) and title.strip(), title
    assert text == error.message
