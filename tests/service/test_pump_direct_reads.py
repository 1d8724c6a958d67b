"""Reads that survive cancellation: the pump reads them in its own task, no task per read."""

from __future__ import annotations

import asyncio

from aiohttp.pytest_plugin import AiohttpServer

from fakes.responses_upstream import FakeResponsesUpstream, Sleep, fixture_steps
from formatters.events import Event, TextDeltaEvent, TurnCompleteEvent
from formatters.frames import FrameValue, encode_frame
from formatters.raw import RawFormatter
from service.settings import Settings
from service.streams.pipeline import Outcome, pump_batches
from service.upstream import Turn
from service.upstream.batches import CancelSafeBatches
from service.upstream.responses import ResponsesUpstream
from service.upstream.turn import TurnRequest


class Collect:
    """A FrameBuffer that keeps every frame's text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, frames: list[FrameValue], event: Event) -> bool:
        self.texts += [encode_frame(frame) for frame in frames]
        return False

    async def flush(self) -> None:
        return None

    def frames(self) -> list[str]:
        return self.texts


class QueuedReads:
    """BatchReads from a queue (whose `get` loses nothing when cancelled); None ends the turn."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[list[Event] | None] = asyncio.Queue()
        self.tasks: list[asyncio.Task[object] | None] = []
        self.closed = False

    async def next_batch(self) -> list[Event]:
        self.tasks.append(asyncio.current_task())
        batch = await self.queue.get()
        if batch is None:
            raise StopAsyncIteration
        return batch

    async def aclose(self) -> None:
        self.closed = True


def delta(chunk: int) -> list[Event]:
    return [TextDeltaEvent(chunk=chunk, step="inference", text=f"t{chunk} ")]


async def feed(reads: QueuedReads, *items: list[Event] | float | None) -> None:
    for item in items:
        if isinstance(item, float):
            await asyncio.sleep(item)
        else:
            reads.queue.put_nowait(item)


async def pump(reads: QueuedReads, **kwargs: object) -> tuple[Collect, object]:
    buffer = Collect()
    turn = Turn(conversation_id="conv", events=CancelSafeBatches(reads))
    result = await pump_batches(
        turn,
        RawFormatter(),
        buffer,
        heartbeat_interval=kwargs.pop("heartbeat_interval", 60.0),  # type: ignore[arg-type]
        stream_timeout=kwargs.pop("stream_timeout", 60.0),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
    return buffer, result


def kinds(buffer: Collect) -> list[str]:
    return [frame.split('"type":"', 1)[1].split('"')[0] for frame in buffer.frames()]


async def test_cancel_safe_reads_run_in_the_pump_task() -> None:
    reads = QueuedReads()
    feeding = asyncio.create_task(feed(reads, 0.02, delta(0), 0.02, delta(1), 0.02, None))
    pumping = asyncio.create_task(pump(reads))
    buffer, result = await pumping
    await feeding
    assert reads.tasks and all(task is pumping for task in reads.tasks)
    assert result.outcome == Outcome.COMPLETED  # type: ignore[attr-defined]
    assert kinds(buffer) == ["start", "text_delta", "text_delta", "end"]
    assert reads.closed


async def test_a_heartbeat_cancels_a_waiting_read_and_loses_no_event() -> None:
    reads = QueuedReads()
    feeding = asyncio.create_task(feed(reads, delta(0), 0.35, delta(1), 0.35, delta(2), None))
    buffer, result = await pump(reads, heartbeat_interval=0.1)
    await feeding
    names = kinds(buffer)
    assert [name for name in names if name != "heartbeat"] == [
        "start",
        "text_delta",
        "text_delta",
        "text_delta",
        "end",
    ]
    first, second = names.index("text_delta"), names.index("text_delta", 2)
    assert "heartbeat" in names[first:second]
    assert result.heartbeats >= 2  # type: ignore[attr-defined]
    texts = [frame for frame in buffer.frames() if '"text_delta"' in frame]
    assert ['"t0 "' in texts[0], '"t1 "' in texts[1], '"t2 "' in texts[2]] == [True] * 3


async def test_a_stop_cancels_a_waiting_read() -> None:
    reads = QueuedReads()
    stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_later(0.05, stop.set_result, None)
    reads.queue.put_nowait(delta(0))
    buffer, result = await pump(reads, stop=stop)
    assert result.outcome == Outcome.DRAINED  # type: ignore[attr-defined]
    assert kinds(buffer) == ["start", "text_delta", "error", "end"]


async def test_the_stream_timeout_cancels_a_waiting_read() -> None:
    reads = QueuedReads()
    buffer, result = await pump(reads, stream_timeout=0.05)
    assert result.outcome == Outcome.TIMEOUT  # type: ignore[attr-defined]
    assert kinds(buffer) == ["start", "error", "end"]


async def test_a_cancel_from_outside_still_cancels_the_pump() -> None:
    reads = QueuedReads()
    pumping = asyncio.create_task(pump(reads, heartbeat_interval=0.01))
    await asyncio.sleep(0.05)
    pumping.cancel()
    try:
        await pumping
    except asyncio.CancelledError:
        cancelled = True
    else:
        cancelled = False
    assert cancelled and reads.closed


async def test_responses_reads_survive_a_cancelled_wait(aiohttp_server: AiohttpServer) -> None:
    steps = fixture_steps("text.sse")
    fake = FakeResponsesUpstream(steps=[*steps[:6], Sleep(0.3), *steps[6:]])
    server = await aiohttp_server(fake.app())
    settings = Settings(
        llama_stack_base_url=str(server.make_url("/")),
        llama_stack_api="responses",
        default_model="m",
    )
    async with ResponsesUpstream(settings) as upstream:
        turn = await upstream.start_turn(TurnRequest(query="hi"))
        events = turn.events
        assert isinstance(events, CancelSafeBatches)
        seen: list[Event] = []
        cancelled = 0
        while not any(isinstance(event, TurnCompleteEvent) for event in seen):
            try:
                seen += await asyncio.wait_for(events.next_batch(), 0.05)
            except TimeoutError:
                cancelled += 1
        await events.aclose()
    assert cancelled >= 2
    texts = "".join(event.text for event in seen if isinstance(event, TextDeltaEvent))
    assert texts == "Hello from the fake model. This is a scripted answer."
