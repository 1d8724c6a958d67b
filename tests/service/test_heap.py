"""A service process freezes its start-up heap out of garbage collection, last thing at start-up."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from aiohttp import web

import service.__main__ as entry
from service.heap import settle_heap
from service.settings import load_settings


class _Kept:
    """An object alive before the freeze (tracked by the collector: it has a __dict__)."""


async def test_settling_freezes_every_object_alive() -> None:
    kept = _Kept()
    assert gc.is_tracked(kept)
    try:
        await settle_heap(web.Application())
        assert gc.get_freeze_count() > 0
        assert not any(obj is kept for obj in gc.get_objects())  # frozen: no generation holds it
    finally:
        gc.unfreeze()  # the test process goes on as it was
    assert any(obj is kept for obj in gc.get_objects())


def test_the_service_settles_its_heap_after_every_other_start_up_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLAMA_STACK_BASE_URL", "http://127.0.0.1:9")
    ran: list[web.Application] = []

    def run_app(app: web.Application, **options: Any) -> None:
        ran.append(app)

    monkeypatch.setattr(web, "run_app", run_app)
    monkeypatch.setattr("uvloop.new_event_loop", lambda: None)
    # structlog's set-up is process-wide: the tests after this one capture logs their own way
    monkeypatch.setattr(entry, "configure_logging", lambda log_format, log_level: None)
    assert entry.serve(load_settings(None, host="127.0.0.1", port=9), reuse_port=False) == 0
    [app] = ran
    assert app.on_startup[-1] is settle_heap
