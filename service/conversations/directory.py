"""The conversations an adapter created: who owns each, checked once and then cached."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from service.conversations.bindings import BindingStore
from service.conversations.lru import Lru

CACHE_SIZE = 10_000
"""Verified (owner, conversation) pairs each process remembers."""


@dataclass(frozen=True, slots=True)
class Binding:
    """A conversation's owner digest (None with auth off) and what the adapter needs to go on."""

    owner: str | None
    detail: str = ""


class OwnerRecords(Protocol):
    """Where a conversation's binding is recorded for good (the upstream, or the shared store)."""

    async def recorded(self, conversation_id: str) -> Binding | None:
        """Return the binding recorded for the conversation, or None."""
        ...

    async def record(self, conversation_id: str, binding: Binding) -> None:
        """Record a new conversation's binding."""
        ...

    async def forget(self, conversation_id: str) -> None:
        """Drop the binding of a conversation that was deleted."""
        ...


class SharedRecords:
    """Bindings recorded in a binding store (Redis with REDIS_URL) as JSON."""

    def __init__(self, store: BindingStore) -> None:
        self._store = store

    async def recorded(self, conversation_id: str) -> Binding | None:
        """Return the binding recorded for the conversation, or None."""
        raw = await self._store.get(_key(conversation_id))
        if raw is None:
            return None
        value = json.loads(raw)
        return Binding(owner=value["owner"], detail=value["detail"])

    async def record(self, conversation_id: str, binding: Binding) -> None:
        """Record a new conversation's binding (the first one written stays)."""
        value = json.dumps({"owner": binding.owner, "detail": binding.detail})
        await self._store.add(_key(conversation_id), value)

    async def forget(self, conversation_id: str) -> None:
        """Drop the binding of a conversation that was deleted."""
        await self._store.delete(_key(conversation_id))


def _key(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


class ConversationDirectory:
    """Finds the conversations a caller may continue; a cache entry serves only its own owner.

    With auth off (owner None) only this process's cache is asked, as before bindings existed.
    With auth on a cache miss asks the records, and keeps the answer only if the caller owns it.
    """

    def __init__(self, records: OwnerRecords | None = None, cache_size: int = CACHE_SIZE) -> None:
        self._records = records
        self._cache: Lru[tuple[str | None, str], Binding] = Lru(cache_size)

    async def find(self, conversation_id: str, owner: str | None) -> Binding | None:
        """Return the conversation's binding if `owner` may continue it, else None."""
        cached = self._cache.get((owner, conversation_id))
        if cached is not None or owner is None or self._records is None:
            return cached
        binding = await self._records.recorded(conversation_id)
        if binding is None or binding.owner != owner:
            return None
        self._cache.put((owner, conversation_id), binding)
        return binding

    async def add(self, conversation_id: str, binding: Binding) -> None:
        """Record a conversation this service just created (the records only with auth on)."""
        if binding.owner is not None and self._records is not None:
            await self._records.record(conversation_id, binding)
        self._cache.put((binding.owner, conversation_id), binding)

    async def forget(self, conversation_id: str, owner: str | None) -> None:
        """Drop `owner`'s binding of a deleted conversation, here and in the records."""
        self._cache.pop((owner, conversation_id))
        if owner is not None and self._records is not None:
            await self._records.forget(conversation_id)
