"""A formatter from a separately installed package (tests/plugins/shout_formatter) just works."""

from __future__ import annotations

import sys
import sysconfig
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

from fakes.agents_upstream import Sleep, fixture_steps
from formatters.base import ENTRY_POINT_GROUP
from tests.conftest import split_frames


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    try:
        distribution("shout-formatter")
    except PackageNotFoundError:
        pytest.fail(
            "the test plugin is not installed: run tests/plugins/install.sh .venv/bin/python "
            "(make test does)"
        )


def test_the_plugin_is_its_own_installed_distribution() -> None:
    plugin = distribution("shout-formatter")
    (entry_point,) = [ep for ep in plugin.entry_points if ep.group == ENTRY_POINT_GROUP]
    assert (entry_point.name, entry_point.value) == ("shout", "shout_formatter:ShoutFormatter")
    source = Path(sys.modules[entry_point.load().__module__].__file__ or "").resolve()
    assert source.is_relative_to(Path(sysconfig.get_paths()["purelib"]).resolve()), source


async def test_the_plugin_is_listed_in_formats(make_client):
    client = await make_client()
    formats = await (await client.get("/v1/formats")).json()
    assert {
        "name": "shout",
        "aliases": ["caps"],
        "media_type": "text/event-stream",
        "description": "The answer in capitals (a third-party plugin package)",
    } in formats


@pytest.mark.parametrize("name", ["shout", "caps"])
async def test_the_plugin_serves_a_stream_with_heartbeats(agents_client, fake_agents, name):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:3], Sleep(0.7), *steps[3:]]
    client = await agents_client(heartbeat_interval=0.3)
    response = await client.post(f"/v1/streaming_query?format={name}", json={"query": "Hi"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    frames = split_frames(await response.read())
    assert frames[:2] == ["event: shout\ndata: HELLO \n\n", "event: shout\ndata: FROM \n\n"]
    assert frames[2:4] == [": still shouting\n\n"] * 2
    assert frames[4:] == [
        f"event: shout\ndata: {word}\n\n"
        for word in ["THE ", "FAKE ", "MODEL. ", "THIS ", "IS ", "A ", "SCRIPTED ", "ANSWER."]
    ] + ["event: end\ndata: THE END\n\n"]
