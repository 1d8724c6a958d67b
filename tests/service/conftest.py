"""Fixtures of the service tests: the resumable-stream store under test, in memory or in Redis."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.redis_server import redis_url  # noqa: F401  (a fixture, shared from here)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings of the stream store under test: in-process, or a real redis-server."""
    if request.param == "memory":
        return {}
    return {"redis_url": request.getfixturevalue("redis_url")}
