"""The binding stores (in process, Redis) and the map of client thread ids to our conversations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from service.conversations.bindings import BindingStore, MemoryBindings, RedisBindings
from service.conversations.directory import Binding, ConversationDirectory, SharedRecords
from service.conversations.owners import owner_digest
from service.conversations.threads import ThreadMap

ALICE, BOB = owner_digest("alice"), owner_digest("bob")


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def open_store(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], BindingStore]]:
    """Open binding stores: each call is a new instance (a restart), on the same Redis."""
    opened: list[BindingStore] = []
    memory = MemoryBindings()

    def open_one() -> BindingStore:
        if request.param == "memory":
            return memory  # one process: its memory is all there is
        store = RedisBindings.from_url(request.getfixturevalue("redis_url"))
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()


async def test_an_unknown_thread_has_no_conversation_for_anyone(open_store):
    threads = ThreadMap(open_store())
    assert await threads.conversation(ALICE, "thread-never-seen") is None
    assert await threads.conversation(None, "thread-never-seen") is None


async def test_a_thread_id_reaches_only_its_own_callers_conversation(open_store):
    threads = ThreadMap(open_store())
    assert await threads.bind(ALICE, "t-shared-name", "conv-alice") == "conv-alice"
    assert await threads.conversation(BOB, "t-shared-name") is None
    assert await threads.conversation(None, "t-shared-name") is None
    assert await threads.bind(BOB, "t-shared-name", "conv-bob") == "conv-bob"
    assert await threads.conversation(ALICE, "t-shared-name") == "conv-alice"
    assert await threads.conversation(BOB, "t-shared-name") == "conv-bob"


async def test_the_first_binding_of_a_thread_wins(open_store):
    threads = ThreadMap(open_store())
    assert await threads.bind(ALICE, "t-raced", "conv-first") == "conv-first"
    assert await threads.bind(ALICE, "t-raced", "conv-second") == "conv-first"
    assert await threads.conversation(ALICE, "t-raced") == "conv-first"


async def test_a_thread_binding_is_seen_by_a_new_instance(open_store):
    assert await ThreadMap(open_store()).bind(ALICE, "t-restart", "conv-kept") == "conv-kept"
    assert await ThreadMap(open_store()).conversation(ALICE, "t-restart") == "conv-kept"


async def test_thread_ids_that_only_differ_around_the_separator_stay_apart(open_store):
    threads = ThreadMap(open_store())
    await threads.bind(None, f"{ALICE}\0t", "conv-anonymous")
    assert await threads.conversation(ALICE, "t") is None


async def test_a_directory_finds_a_conversation_for_its_owner_only(open_store):
    directory = ConversationDirectory(SharedRecords(open_store()))
    await directory.add("session-d1", Binding(ALICE, "agent-7"))
    assert await directory.find("session-d1", ALICE) == Binding(ALICE, "agent-7")
    assert await directory.find("session-d1", BOB) is None
    assert await directory.find("session-d1", None) is None  # auth off asks its cache only
    restarted = ConversationDirectory(SharedRecords(open_store()))
    assert await restarted.find("session-d1", BOB) is None
    assert await restarted.find("session-d1", ALICE) == Binding(ALICE, "agent-7")


async def test_a_binding_is_written_once(open_store):
    records = SharedRecords(open_store())
    await records.record("session-once", Binding(ALICE, "agent-1"))
    await records.record("session-once", Binding(BOB, "agent-2"))
    assert await records.recorded("session-once") == Binding(ALICE, "agent-1")


async def test_the_memory_store_forgets_the_least_recently_used_beyond_its_size():
    store = MemoryBindings(size=2)
    await store.add("a", "1")
    await store.add("b", "2")
    assert await store.get("a") == "1"
    await store.add("c", "3")
    assert [await store.get(key) for key in "abc"] == ["1", None, "3"]
