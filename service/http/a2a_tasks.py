"""A2A tasks kept in the resume store: a task is an `a2a` stream; its frames fold into the Task.

Any replica can answer for any task (the store is shared), and a client that lost its stream
gets back the task as it stands, then exactly the frames after it (`SubscribeToTask`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator

import aiohttp
import structlog
from aiohttp import web

from formatters.a2a import TERMINAL_STATES, A2aFormatter, TaskAssembler, rpc_result
from formatters.base import EVENT_STREAM
from formatters.event_json import compact_json
from formatters.events import EndEvent, JsonObject
from formatters.frames import Frame, encode_frame
from service.http.a2a_rpc import TaskNotCancelable, TaskNotFound, UnsupportedOperation
from service.http.models.a2a import RpcId
from service.keys import PRINCIPAL, RESUMER, SETTINGS
from service.resume.follower import STREAM_ID_HEADER
from service.resume.ids import event_id, numbered, stamped
from service.resume.manager import Resumer, StreamNotFound
from service.resume.producer import producer_lost, store_lost
from service.resume.store import Batch, StoreUnavailable, StreamMeta
from service.streams.session import sse_headers

log = structlog.get_logger(__name__)

CANCEL_WAIT = 5.0
"""Seconds `CancelTask` waits for the task to end before it answers with the task as it is."""

Batches = AsyncGenerator[Batch, None]


class Stored:
    """One frame as the store keeps it: its JSON-RPC response (None for a comment), its id."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.response: JsonObject | None = None
        self.event_id: str | None = None
        for line in text.split("\n"):
            if line.startswith("data: "):
                self.response = json.loads(line[6:])
            elif line.startswith("id: "):
                self.event_id = line[4:]

    def answering(self, rpc_id: RpcId) -> str:
        """Return the frame as the answer to another request: `rpc_id` is its id."""
        if self.response is None:
            return self.text
        response = {**self.response, "id": rpc_id}
        return encode_frame(Frame(compact_json(response), None, self.event_id), resumable=True)


class TaskLog:
    """The caller's A2A tasks in the app's resume store (none when resume is off)."""

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self._resumer: Resumer | None = request.app.get(RESUMER)

    async def meta(self, task_id: str) -> StreamMeta:
        """Return the task's stream; TaskNotFound if unknown, expired, another's, not a task."""
        if self._resumer is None:
            raise TaskNotFound(f"No task has the id {task_id!r}: tasks are kept only with resume")
        meta = await self._resumer.store.meta(task_id)
        if meta is None or meta.owner != self._request.get(PRINCIPAL) or meta.format != "a2a":
            raise TaskNotFound(f"No task has the id {task_id!r}: unknown, expired or not yours")
        return meta

    async def get(self, task_id: str, history_length: int | None = None) -> JsonObject:
        """Return the task as it stands now."""
        meta = await self.meta(task_id)
        assembler = TaskAssembler()
        batches = self._batches(meta)
        try:
            frames, _ = await _frames_now(batches, to_end=meta.done)
        finally:
            await batches.aclose()
        return _folded(assembler, frames).snapshot(history_length)

    async def cancel(self, task_id: str) -> JsonObject:
        """Stop the task's turn on whichever replica runs it; return the task once it ended."""
        meta = await self.meta(task_id)
        assert self._resumer is not None
        if meta.done:
            raise TaskNotCancelable(f"Task {task_id} has ended")
        try:
            await self._resumer.interrupt(self._request, task_id)
        except StreamNotFound:
            raise TaskNotCancelable(f"Task {task_id} has ended or is being canceled") from None
        assembler = TaskAssembler()
        batches = self._batches(meta)
        try:
            async with asyncio.timeout(CANCEL_WAIT):
                async for batch in batches:
                    _folded(assembler, [Stored(text) for text in batch.frames])
        except TimeoutError:
            log.warning("task did not end after its cancel", task_id=task_id)
        finally:
            await batches.aclose()
        return assembler.snapshot()

    async def subscribe(self, task_id: str, rpc_id: RpcId) -> web.StreamResponse:
        """Stream the task as it stands, then every frame after it; a task that ended refuses."""
        meta = await self.meta(task_id)
        assert self._resumer is not None
        with self._resumer.followers.slot(task_id):
            if meta.done:
                raise UnsupportedOperation(f"Task {task_id} is in a terminal state")
            batches = self._batches(meta)
            try:
                frames, ended = await _frames_now(batches, to_end=False)
                assembler = _folded(TaskAssembler(), frames)
                if ended or assembler.state in TERMINAL_STATES:
                    raise UnsupportedOperation(f"Task {task_id} is in a terminal state")
                seq = max((_seq(frame) for frame in frames), default=-1)
                task = assembler.snapshot()
                snapshot = compact_json(rpc_result(rpc_id, {"task": task}))
                first = encode_frame(Frame(snapshot, None, event_id(task_id, seq)), resumable=True)
                return await self._stream(meta, first, batches, rpc_id, task["contextId"])
            finally:
                await batches.aclose()

    def _batches(self, meta: StreamMeta) -> Batches:
        assert self._resumer is not None

        def fallback(seq: int) -> list[str]:
            closer = A2aFormatter(task_id=meta.stream_id, context_id=meta.conversation_id)
            return stamped(
                closer.epilogue(producer_lost(), EndEvent()), numbered(meta.stream_id, seq)
            )

        return self._resumer.store.follow(meta.stream_id, -1, fallback)

    async def _stream(
        self,
        meta: StreamMeta,
        first: str,
        batches: Batches,
        rpc_id: RpcId,
        context_id: str,
    ) -> web.StreamResponse:
        """Write the snapshot frame, then each later frame answering `rpc_id`, to the terminal."""
        headers = sse_headers(EVENT_STREAM, {STREAM_ID_HEADER: meta.stream_id})
        response = web.StreamResponse(headers=headers)
        await response.prepare(self._request)
        timeout = self._request.app[SETTINGS].write_timeout
        if not await _write(response, first, timeout):
            return response
        try:
            async for batch in batches:
                text = "".join(Stored(frame).answering(rpc_id) for frame in batch.frames)
                if not await _write(response, text, timeout) or batch.terminal:
                    break
        except StoreUnavailable as exc:
            log.warning("the stream store failed; ending this subscription", reason=exc.reason)
            closer = A2aFormatter(task_id=meta.stream_id, context_id=context_id, rpc_id=rpc_id)
            frames = closer.epilogue(store_lost(), EndEvent())
            await _write(response, "".join(encode_frame(frame) for frame in frames), timeout)
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return response


async def _frames_now(batches: Batches, *, to_end: bool) -> tuple[list[Stored], bool]:
    """Read the frames the store gives first (all of them `to_end`); say if the stream ended.

    What comes first is what the store holds now (or its first part): the task as it stands,
    and the frames after it follow on the same reader, so none is missed or read twice.
    """
    frames: list[Stored] = []
    async for batch in batches:
        frames.extend(Stored(text) for text in batch.frames)
        if batch.terminal:
            return frames, True
        if not to_end:
            return frames, False
    return frames, True


def _folded(assembler: TaskAssembler, frames: list[Stored]) -> TaskAssembler:
    """Fold the frames' results into `assembler`; return it."""
    for frame in frames:
        if frame.response is not None and "result" in frame.response:
            assembler.add(frame.response["result"])
    if assembler.task is None:
        raise TaskNotFound("The task has not started yet")
    return assembler


def _seq(frame: Stored) -> int:
    if frame.event_id is None:
        return -1
    return int(frame.event_id.rpartition(":")[2])


async def _write(response: web.StreamResponse, text: str, seconds: float) -> bool:
    """Write to the subscriber; False if it left or stopped reading."""
    try:
        async with asyncio.timeout(seconds):
            await response.write(text.encode())
    except (ConnectionError, aiohttp.ClientConnectionResetError, TimeoutError):
        log.debug("task subscriber left")
        return False
    return True
