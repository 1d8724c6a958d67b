"""The Redis stream store: frames of every replica's streams in Redis streams, followed anywhere.

Per stream (keys share the hash tag `{<stream id>}`): `frames`, a Redis stream whose entry
`0-<seq + 1>` holds frame `seq` (field `f`; `t` marks the terminal frame), capped with `MAXLEN`;
`meta`, a hash (format, headers, owner, state); `epilogue`, the error and terminal frames a
follower writes if the producer dies; `alive`, the producer's liveness key (`LIVENESS_TTL`,
renewed by its replica every `RENEW_EVERY`); `attached`, renewed by followers for the window;
`interrupt`, an interrupt request. Everything expires `window` seconds after the stream ends.

Two connection pools: `writes` for the producers' appends and the liveness checkup, `reads` for
followers and requests, so no number of followers makes a producer wait. On each replica one
reader per followed stream waits in XREAD BLOCK and fans its frames out to the followers there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as redis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from service.observability.exc_text import safe_description
from service.resume.fanout import Feed
from service.resume.store import (
    LIVENESS_TTL,
    Batch,
    Checkup,
    Epilogue,
    Fallback,
    StoreUnavailable,
    StreamMeta,
)

log = structlog.get_logger(__name__)

READ_COUNT = 1000
"""Most entries one XREAD returns."""
FOLLOW_BLOCK_MS = 1000
"""Longest a follower waits in XREAD BLOCK before it checks that the producer lives."""
ATTACH_EVERY = 5.0
"""How often (at most) an attached follower renews the stream's `attached` key."""
TAKE_OVER_TRIES = 3
"""How often followers try to end a dead producer's stream in Redis before ending it locally."""
REDIS_TIMEOUT = 5.0
"""Seconds a Redis connect or reply may take (a follower's XREAD BLOCK is shorter)."""
POOL_WAIT = 5.0
"""Seconds a call waits for a free pooled connection before the store counts as unavailable."""
RETRIES = 1
"""Retries of a call whose connection broke (a pooled connection from before a Redis restart)."""

_TAKE_OVER = """
if redis.call('HGET', KEYS[2], 'state') ~= 'running' then return 0 end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last_id = ''
if #last > 0 then last_id = last[1][1] end
if last_id ~= ARGV[1] then return 0 end
local seq = tonumber(ARGV[3])
for i = 4, #ARGV do
  if i == #ARGV then
    redis.call('XADD', KEYS[1], '0-' .. (seq + 1), 'f', ARGV[i], 't', '1')
  else
    redis.call('XADD', KEYS[1], '0-' .. (seq + 1), 'f', ARGV[i])
  end
  seq = seq + 1
end
redis.call('HSET', KEYS[2], 'state', 'done')
for i = 1, 2 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
return 1
"""
"""End a stream for its dead producer: only if it still runs, its producer is not alive, and
no frame came after the ones the epilogue follows. Atomic, so one follower wins."""


_APPEND = """
local seq = tonumber(ARGV[1])
local last = #ARGV
for i = 7, last do
  if ARGV[3] == '1' and i == last then
    redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '0-' .. (seq + 1), 'f', ARGV[i], 't', '1')
  else
    redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '0-' .. (seq + 1), 'f', ARGV[i])
  end
  seq = seq + 1
end
if ARGV[1] == '0' then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
if ARGV[5] ~= '' then redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[4]) end
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[3], 'state', 'done')
  redis.call('DEL', KEYS[4])
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[6]) end
  for i = 5, 6 do redis.call('PEXPIRE', KEYS[i], ARGV[6]) end
end
return seq
"""
"""Append one event's frames as entries `0-<seq + 1>` (`t` on a terminal frame), leave the
epilogue, and on the terminal frame mark the stream done, in one atomic command (KEYS: frames,
epilogue, meta, alive, attached, interrupt). An entry id not above the stream's last one (a
follower ended the stream for a producer it took for dead) fails before anything is written."""


_CHECKUP = """
local out = {}
for i = 1, #KEYS, 3 do
  redis.call('SET', KEYS[i], '1', 'PX', ARGV[1])
  local flags = 0
  if redis.call('EXISTS', KEYS[i + 1]) == 0 then flags = flags + 1 end
  if redis.call('EXISTS', KEYS[i + 2]) == 1 then flags = flags + 2 end
  out[#out + 1] = flags
end
return out
"""
"""Renew the liveness keys of this replica's turns (KEYS: alive, attached, interrupt of each) and
flag each: 1 when no follower is attached, 2 when an interrupt was asked. One command a tick."""


class _Keys:
    def __init__(self, stream_id: str) -> None:
        tag = f"ags:{{{stream_id}}}"
        self.frames = f"{tag}:frames"
        self.meta = f"{tag}:meta"
        self.epilogue = f"{tag}:epilogue"
        self.alive = f"{tag}:alive"
        self.attached = f"{tag}:attached"
        self.interrupt = f"{tag}:interrupt"

    def kept(self) -> tuple[str, ...]:
        """Return the keys that stay for the window after the stream ends."""
        return (self.frames, self.meta, self.epilogue, self.attached, self.interrupt)


@dataclass(slots=True)
class _Reader:
    feed: Feed
    task: asyncio.Task[None] | None = None


class RedisStore:
    """Streams in Redis, so a follower on any replica sees every frame (see the module doc)."""

    keeps_epilogue = True

    def __init__(
        self,
        writes: redis.Redis,
        reads: redis.Redis,
        *,
        window: float,
        lifetime: float,
        max_frames: int,
    ) -> None:
        self._writes = writes
        self._reads = reads
        self._window_ms = max(int(window * 1000), 1)
        self._lifetime_ms = max(int(lifetime * 1000), 1)
        self._max_frames = max_frames
        self._block_ms = max(min(FOLLOW_BLOCK_MS, self._window_ms // 3), 10)
        self._attach_every = max(min(ATTACH_EVERY, window / 3), 0.01)
        self._readers: dict[str, _Reader] = {}
        self._take_over = reads.register_script(_TAKE_OVER)
        self._append = writes.register_script(_APPEND)
        self._checkup = writes.register_script(_CHECKUP)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        window: float,
        lifetime: float,
        max_frames: int,
        writers: int,
        readers: int,
    ) -> RedisStore:
        """Connect lazily to the Redis at `url`, with two pools of at most so many connections.

        `writers` serve the producers and the checkup; `readers` the followers (one waiting per
        followed stream, and a short read per follower catching up) and the requests.
        """

        def client(connections: int) -> redis.Redis:
            pool = redis.BlockingConnectionPool.from_url(
                url,
                max_connections=connections,
                timeout=POOL_WAIT,
                decode_responses=True,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
                retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), RETRIES),
            )
            return redis.Redis.from_pool(pool)

        writes, reads = client(writers), client(readers)
        return cls(writes, reads, window=window, lifetime=lifetime, max_frames=max_frames)

    async def create(self, meta: StreamMeta) -> None:
        """Register a new running stream, alive and attached."""
        keys = _Keys(meta.stream_id)
        mapping: dict[Any, Any] = {
            "format": meta.format,
            "media_type": meta.media_type,
            "headers": json.dumps(dict(meta.headers)),
            "owner": "" if meta.owner is None else meta.owner,
            "has_owner": "1" if meta.owner is not None else "",
            "conversation_id": meta.conversation_id,
            "state": "running",
        }
        pipe = self._writes.pipeline(transaction=True)
        pipe.hset(keys.meta, mapping=mapping)
        pipe.pexpire(keys.meta, self._lifetime_ms)
        pipe.set(keys.alive, "1", px=int(LIVENESS_TTL * 1000))
        pipe.set(keys.attached, "1", px=self._window_ms)
        await _run(pipe.execute())

    async def append(
        self,
        stream_id: str,
        first_seq: int,
        frames: Sequence[str],
        *,
        terminal: bool = False,
        epilogue: Epilogue | None = None,
    ) -> None:
        """Add the frames, the epilogue, and on the terminal frame the end: one script call."""
        keys = _Keys(stream_id)
        saved = ""
        if epilogue is not None:
            # "stamped": an epilogue of an older release ("frames", unstamped) is not read
            saved = json.dumps({"next": epilogue.next_seq, "stamped": epilogue.frames})
        await _run(
            self._append(
                keys=[
                    keys.frames,
                    keys.epilogue,
                    keys.meta,
                    keys.alive,
                    keys.attached,
                    keys.interrupt,
                ],
                args=[
                    first_seq,
                    self._max_frames,
                    "1" if terminal else "0",
                    self._lifetime_ms,
                    saved,
                    self._window_ms,
                    *frames,
                ],
            )
        )

    async def finish(self, stream_id: str) -> None:
        """Mark the stream ended; keep it for the window from now."""
        keys = _Keys(stream_id)
        if not await _run(self._writes.exists(keys.meta)):
            return
        pipe = self._writes.pipeline(transaction=True)
        self._queue_finish(pipe, keys)
        await _run(pipe.execute())

    def _queue_finish(self, pipe: Any, keys: _Keys) -> None:
        pipe.hset(keys.meta, "state", "done")
        pipe.delete(keys.alive)
        for key in keys.kept():
            pipe.pexpire(key, self._window_ms)

    async def meta(self, stream_id: str) -> StreamMeta | None:
        """Return the stream's metadata, or None if unknown or expired."""
        fields: dict[str, str] = await _run(self._reads.hgetall(_Keys(stream_id).meta))
        if "format" not in fields:
            return None
        return StreamMeta(
            stream_id=stream_id,
            format=fields["format"],
            media_type=fields["media_type"],
            headers=json.loads(fields["headers"]),
            owner=fields["owner"] if fields.get("has_owner") else None,
            conversation_id=fields["conversation_id"],
            done=fields.get("state") != "running",
        )

    async def follow(
        self, stream_id: str, after: int, fallback: Fallback
    ) -> AsyncGenerator[Batch, None]:
        """Yield the frames after `after` from this replica's one reader of the stream."""
        reader = self._readers.get(stream_id)
        if reader is None or reader.feed.ended:
            reader = _Reader(Feed(after))
            self._readers[stream_id] = reader
            reader.task = asyncio.create_task(self._read_feed(stream_id, reader.feed, fallback))
        keys = _Keys(stream_id)
        reader.feed.followers += 1
        try:
            async for batch in reader.feed.follow(
                after, lambda cursor: self._read(keys, cursor, block=False)
            ):
                yield batch
        finally:
            reader.feed.followers -= 1
            if not reader.feed.followers and not reader.feed.ended:
                self._stop_reader(stream_id, reader)

    def _stop_reader(self, stream_id: str, reader: _Reader) -> None:
        """End the feed nobody follows any more, and its reader."""
        reader.feed.end()
        if self._readers.get(stream_id) is reader:
            del self._readers[stream_id]
        if reader.task is not None:
            reader.task.cancel()

    async def _read_feed(self, stream_id: str, feed: Feed, fallback: Fallback) -> None:
        """Publish the stream's frames to the feed from XREAD BLOCK and keep the stream attached.

        On a quiet stream, check that its producer lives, and end the stream for it if not.
        """
        keys = _Keys(stream_id)
        loop = asyncio.get_running_loop()
        cursor = feed.last_seq
        failed_take_overs = 0
        try:
            await _run(self._reads.set(keys.attached, "1", px=self._window_ms))
            attached_at = loop.time()
            block = False  # a stream that has ended answers at once
            while True:
                batch = await self._read(keys, cursor, block=block)
                block = True
                renew = loop.time() - attached_at >= self._attach_every
                if batch is not None:
                    if renew:
                        attached_at = loop.time()
                        await _run(self._reads.set(keys.attached, "1", px=self._window_ms))
                    cursor = batch.last_seq
                    feed.publish(batch)
                    if batch.terminal:
                        return
                    continue
                pipe = self._reads.pipeline(transaction=False)
                pipe.hget(keys.meta, "state")
                pipe.exists(keys.alive)
                if renew:
                    attached_at = loop.time()
                    pipe.set(keys.attached, "1", px=self._window_ms)
                state, alive, *_ = await _run(pipe.execute())
                if state is None:
                    return
                if state != "running":
                    if (batch := await self._read(keys, cursor, block=False)) is None:
                        return
                    cursor = batch.last_seq
                    feed.publish(batch)
                    if batch.terminal:
                        return
                    continue
                if alive:
                    continue
                if await self._end_for_dead_producer(keys, stream_id, cursor, fallback):
                    log.warning("producer of the stream is gone; ended it", stream_id=stream_id)
                    block = False
                    continue
                failed_take_overs += 1
                if failed_take_overs >= TAKE_OVER_TRIES:
                    stamped = fallback(cursor + 1)
                    feed.publish(Batch(stamped, cursor + len(stamped), terminal=True))
                    return
        except StoreUnavailable as exc:
            log.error("the stream store failed while following", reason=exc.reason)
            feed.end(exc)
        finally:
            feed.end()
            if (current := self._readers.get(stream_id)) is not None and current.feed is feed:
                del self._readers[stream_id]
            with contextlib.suppress(RedisError, OSError):
                await self._reads.set(keys.attached, "1", px=self._window_ms)

    async def _read(self, keys: _Keys, cursor: int, *, block: bool) -> Batch | None:
        reply = await _run(
            self._reads.xread(
                {keys.frames: f"0-{cursor + 1}"},
                count=READ_COUNT,
                block=self._block_ms if block else None,
            )
        )
        if not reply:
            return None
        entries: list[tuple[str, dict[str, str]]] = reply[0][1]
        if not entries:
            return None
        last_id, last_fields = entries[-1]
        return Batch(
            [fields["f"] for _, fields in entries],
            _seq(last_id),
            terminal="t" in last_fields,
        )

    async def _end_for_dead_producer(
        self, keys: _Keys, stream_id: str, cursor: int, fallback: Fallback
    ) -> bool:
        raw = await _run(self._reads.get(keys.epilogue))
        saved = json.loads(raw) if raw else None
        next_seq = saved["next"] if saved else cursor + 1
        stamped = saved.get("stamped") if saved else None
        if not stamped:
            stamped = fallback(next_seq)
        expected = f"0-{next_seq}" if next_seq > 0 else ""
        done = await _run(
            self._take_over(
                keys=[keys.frames, keys.meta, keys.alive],
                args=[expected, self._window_ms, next_seq, *stamped],
            )
        )
        return bool(done)

    async def claim_interrupt(self, stream_id: str) -> bool:
        """Record an interrupt request (SET NX); False if one was made already."""
        claimed = await _run(
            self._reads.set(_Keys(stream_id).interrupt, "1", px=self._lifetime_ms, nx=True)
        )
        return bool(claimed)

    async def checkup(self, stream_ids: Sequence[str]) -> Checkup:
        """Renew these turns' liveness keys; report the unattached and the interrupted ones."""
        if not stream_ids:
            return Checkup()
        keys = []
        for stream_id in stream_ids:
            named = _Keys(stream_id)
            keys += [named.alive, named.attached, named.interrupt]
        flags = await _run(self._checkup(keys=keys, args=[int(LIVENESS_TTL * 1000)]))
        abandoned = frozenset(s for s, flag in zip(stream_ids, flags, strict=True) if flag & 1)
        interrupted = frozenset(s for s, flag in zip(stream_ids, flags, strict=True) if flag & 2)
        return Checkup(abandoned=abandoned, interrupted=interrupted)

    async def ping(self) -> None:
        """Check that Redis answers."""
        await _run(self._writes.ping())

    async def close(self) -> None:
        """Stop the readers and close the connections."""
        tasks = [reader.task for reader in self._readers.values() if reader.task is not None]
        for stream_id, reader in list(self._readers.items()):
            self._stop_reader(stream_id, reader)
        if tasks:
            await asyncio.wait(tasks)
        await self._reads.aclose()
        await self._writes.aclose()


def _seq(entry_id: str) -> int:
    return int(entry_id.partition("-")[2]) - 1


async def _run(call: Awaitable[Any] | Any) -> Any:
    """Await one Redis call; a connection or server failure becomes StoreUnavailable."""
    try:
        return await cast(Awaitable[Any], call)
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        log.warning("Redis is unreachable", error=str(exc))  # the address stays in the log
        raise StoreUnavailable(f"Redis is unreachable: {safe_description(exc)}") from exc
    except RedisError as exc:
        log.warning("Redis failed", error=str(exc))
        raise StoreUnavailable(f"Redis failed: {safe_description(exc)}") from exc
