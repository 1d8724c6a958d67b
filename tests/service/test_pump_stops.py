"""The pump's early ends are Stop values; resume's outcomes are resume's; one EndBuilder."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from structlog.testing import capture_logs

from formatters.events import Document, DocumentsEvent, ErrorEvent, Event, TextDeltaEvent
from formatters.frames import FrameValue, encode
from formatters.patternfly import PatternflyFormatter
from formatters.raw import RawFormatter
from service.keys import ACTIVE_STREAMS, METRICS, SETTINGS
from service.observability.metrics import Metrics
from service.resume.memory import MemoryStore
from service.resume.outcomes import STREAM_OUTCOMES, ResumeOutcome
from service.resume.producer import Producer, store_failed
from service.resume.store import StoreUnavailable, StreamMeta
from service.settings import Settings
from service.streams.pipeline import EndBuilder, Outcome, SinkFailed, Stop, pump_batches
from service.streams.session import StreamSession
from service.streams.state import ActiveStreams
from tests.service.test_pipeline_batches import one_by_one

LOST = Stop(ResumeOutcome.STORE_FAILED, ErrorEvent(message="gone", code="store_unavailable"))
DOC = Document(url="https://docs.example.com/a", title="A", document_id="a")


class FailsOnSecondFlush:
    """A FrameBuffer whose sink fails for good on its second flush."""

    def __init__(self) -> None:
        self.flushes = 0
        self.added: list[str] = []

    def add(self, frames: list[FrameValue], event: Event) -> bool:
        self.added.append(encode(frames))
        return False

    async def flush(self) -> None:
        self.flushes += 1
        if self.flushes == 2:
            raise SinkFailed(LOST)


async def test_a_failed_sink_ends_the_stream_at_once_with_its_stop_s_outcome() -> None:
    buffer = FailsOnSecondFlush()
    events: list[Event] = [TextDeltaEvent(chunk=i, text=f"t{i}") for i in range(3)]
    result = await pump_batches(
        one_by_one(events), PatternflyFormatter(), buffer, heartbeat_interval=5, stream_timeout=60
    )
    assert result.outcome is ResumeOutcome.STORE_FAILED
    assert result.frames == 1  # the start; nothing after the failed flush
    assert len(buffer.added) == 2  # start, the first token: no error frame, no end


def test_resume_s_outcomes_are_not_the_pump_s_yet_all_are_counted() -> None:
    assert not {*Outcome} & {*ResumeOutcome}
    assert [o.value for o in [*Outcome, *ResumeOutcome]] == [
        "completed", "upstream_error", "client_gone", "client_stalled", "timeout", "drained",
        "interrupted", "abandoned", "too_large", "store_failed",
    ]  # fmt: skip
    assert STREAM_OUTCOMES[:-1] == tuple(o.value for o in [*Outcome, *ResumeOutcome])
    assert store_failed().outcome is ResumeOutcome.STORE_FAILED


class FailingStore(MemoryStore):
    """The in-process store, but the store 'fails' on the append after `good` ones."""

    keeps_epilogue = True

    def __init__(self, good: int) -> None:
        super().__init__(window=5, finished_bytes=1 << 20)
        self.good = good
        self.epilogues: list[list[str]] = []

    async def append(self, stream_id, first_seq, frames, *, terminal=False, epilogue=None):
        if self.good == 0:
            raise StoreUnavailable("down")
        self.good -= 1
        if epilogue is not None:
            self.epilogues.append(epilogue.frames)
        await super().append(stream_id, first_seq, frames, terminal=terminal, epilogue=epilogue)


async def run_producer(store: MemoryStore, events: list[Event]) -> list[object]:
    """Run a producer in a stream session as the Resumer does; return the session's end lines."""
    await store.create(StreamMeta(stream_id="S" * 22, format="raw", media_type="text/event-stream"))
    producer = Producer(
        stream_id="S" * 22,
        turn=one_by_one(events),
        formatter=RawFormatter(),
        store=store,
        budget=1 << 20,
    )
    app = web.Application()
    app[SETTINGS] = Settings(heartbeat_interval=5, stream_timeout=60)
    app[ACTIVE_STREAMS] = ActiveStreams()
    app[METRICS] = Metrics(["raw"])
    with (
        capture_logs() as logs,
        StreamSession(make_mocked_request("POST", "/", app=app)) as session,
    ):
        session.label = "raw"
        session.hold()  # the turn's own hold, which its end releases
        await producer.run(session)
    assert app[ACTIVE_STREAMS].count == 0
    return [line for line in logs if line["event"] == "stream end"]


async def test_a_store_failure_is_the_producer_s_stop() -> None:
    (end,) = await run_producer(
        FailingStore(good=2), [TextDeltaEvent(chunk=i, text="x") for i in range(4)]
    )
    assert end["outcome"] == ResumeOutcome.STORE_FAILED.value  # type: ignore[index]


async def test_the_producer_and_the_pump_watch_each_event_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []
    observe = EndBuilder.observe

    def counted(self: EndBuilder, event: Event) -> None:
        seen.append(event.type)
        observe(self, event)

    monkeypatch.setattr(EndBuilder, "observe", counted)
    store = FailingStore(good=100)
    await run_producer(store, [DocumentsEvent(chunk=0, documents=[DOC])])
    assert seen.count("documents") == 1
    # the epilogue after the documents event reports them (the producer reads the pump's builder)
    assert '"referenced_documents":[{"url":"https://docs.example.com/a"' in store.epilogues[-1][-1]
