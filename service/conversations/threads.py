"""Client-minted thread ids (AG-UI threads, A2A contexts) mapped per caller to our conversations."""

from __future__ import annotations

import hashlib

from service.conversations.bindings import BindingStore


class ThreadMap:
    """Maps (owner, client thread id) to a conversation id; no caller ever reaches another's.

    A route looks the thread up; None means a new conversation: it starts the turn without a
    conversation id, then binds the thread to the turn's conversation. When two first turns of
    one thread race, `bind` returns the conversation that won, for both.
    """

    def __init__(self, store: BindingStore) -> None:
        self._store = store

    async def conversation(self, owner: str | None, thread_id: str) -> str | None:
        """Return the caller's conversation for this thread, or None if it has none yet."""
        return await self._store.get(_key(owner, thread_id))

    async def bind(self, owner: str | None, thread_id: str, conversation_id: str) -> str:
        """Bind the caller's thread to the conversation unless it has one; return the one kept."""
        return await self._store.add(_key(owner, thread_id), conversation_id)


def _key(owner: str | None, thread_id: str) -> str:
    """One fixed-size key per (owner, thread): a client id never collides with another caller's."""
    pair = f"{owner or ''}\0{thread_id}".encode()
    return f"thread:{hashlib.sha256(pair).hexdigest()}"
