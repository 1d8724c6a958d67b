"""Where bindings live: a write-once key-value store, in process or in the shared Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any, Protocol, cast

import redis.asyncio as redis
import structlog
from aiohttp import web
from redis.exceptions import RedisError

from service.conversations.lru import Lru
from service.errors import Rejected
from service.keys import BINDINGS, SETTINGS
from service.settings import Settings

log = structlog.get_logger(__name__)

MEMORY_BINDINGS = 100_000
"""Most bindings the in-process store keeps (the least recently used go first)."""
REDIS_CONNECTIONS = 32
"""Connections of the binding store's own Redis pool (never shared with the stream store)."""
KEY_PREFIX = "ags:binding:"


class BindingsUnavailable(Rejected):
    """503: the shared binding store does not answer, so no conversation can be checked."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "Unable to check the conversation",
            "The store of conversation owners does not answer; retry later.",
        )


class BindingStore(Protocol):
    """Write-once string values by key; the first value written for a key is the one kept."""

    async def get(self, key: str) -> str | None:
        """Return the value kept for `key`, or None."""
        ...

    async def add(self, key: str, value: str) -> str:
        """Keep `value` unless `key` has one already; return the value kept."""
        ...

    async def delete(self, key: str) -> None:
        """Forget `key`'s value (a later `add` writes anew)."""
        ...

    async def close(self) -> None:
        """Release the store's connections."""
        ...


class MemoryBindings:
    """Bindings of this process only: lost on restart, unknown to other replicas."""

    def __init__(self, size: int = MEMORY_BINDINGS) -> None:
        self._values: Lru[str, str] = Lru(size)

    async def get(self, key: str) -> str | None:
        """Return the value kept for `key`, or None."""
        return self._values.get(key)

    async def add(self, key: str, value: str) -> str:
        """Keep `value` unless `key` has one already; return the value kept."""
        kept = self._values.get(key)
        if kept is None:
            self._values.put(key, value)
            return value
        return kept

    async def delete(self, key: str) -> None:
        """Forget `key`'s value (a later `add` writes anew)."""
        self._values.pop(key)

    async def close(self) -> None:
        """Nothing to release."""


class RedisBindings:
    """Bindings in Redis (`ags:binding:<key>`, no expiry): every replica sees them, restarts too."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    @classmethod
    def from_url(cls, url: str) -> RedisBindings:
        """Connect lazily to the Redis at `url`, with a pool of its own."""
        return cls(
            redis.Redis.from_url(url, decode_responses=True, max_connections=REDIS_CONNECTIONS)
        )

    async def get(self, key: str) -> str | None:
        """Return the value kept for `key`, or None."""
        value = await _run(self._redis.get(KEY_PREFIX + key))
        return None if value is None else str(value)

    async def add(self, key: str, value: str) -> str:
        """Keep `value` unless `key` has one already (SET NX); return the value kept."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(KEY_PREFIX + key, value, nx=True)
        pipe.get(KEY_PREFIX + key)
        _, kept = await _run(pipe.execute())
        return str(kept)

    async def delete(self, key: str) -> None:
        """Forget `key`'s value (a later `add` writes anew)."""
        await _run(self._redis.delete(KEY_PREFIX + key))

    async def close(self) -> None:
        """Close the connections."""
        await self._redis.aclose()


async def _run(call: Awaitable[Any] | Any) -> Any:
    """Await one Redis call; a failure is logged (with its address) and answered 503."""
    try:
        return await cast(Awaitable[Any], call)
    except (RedisError, OSError) as exc:
        log.warning("conversation binding store failed", error=repr(exc))
        raise BindingsUnavailable() from exc


def make_bindings(settings: Settings) -> BindingStore:
    """Return the shared Redis store with REDIS_URL, else the in-process one."""
    if settings.redis_url:
        return RedisBindings.from_url(settings.redis_url)
    return MemoryBindings()


async def bindings_context(app: web.Application) -> AsyncIterator[None]:
    """Open the app's binding store for its lifetime."""
    store = make_bindings(app[SETTINGS])
    app[BINDINGS] = store
    try:
        yield
    finally:
        await store.close()
