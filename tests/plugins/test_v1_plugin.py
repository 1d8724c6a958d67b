"""A plugin of the v1 formatter API (SSE text) still works, through an adapter, and says so."""

from __future__ import annotations

from importlib.metadata import entry_points
from types import SimpleNamespace
from typing import Any

import pytest

from fakes.agents_upstream import Sleep, fixture_steps
from formatters.base import ENTRY_POINT_GROUP_V1
from formatters.events import EndEvent, ErrorEvent, Event, HeartbeatEvent, TextDeltaEvent
from formatters.frames import Comment, Frame, encode
from formatters.v1 import V1Adapter, adapt
from service.streams import registry as registry_module
from service.streams.registry import load_registry
from tests.conftest import split_frames
from tests.plugins.v1_formatter import WhisperFormatter

WARNING = r"formatter plugin 'whisper-plugin' \(tests\.plugins\.v1_formatter\.WhisperFormatter\)"


class V1EntryPoint:
    name, value = "whisper", "tests.plugins.v1_formatter:WhisperFormatter"
    dist = SimpleNamespace(name="whisper-plugin")

    def load(self) -> object:
        return WhisperFormatter


@pytest.fixture
def v1_plugin_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed entry points, and the v1 plugin under the v1 group."""

    def installed(group: str) -> list[Any]:
        found = list(entry_points(group=group))
        return [*found, V1EntryPoint()] if group == ENTRY_POINT_GROUP_V1 else found

    monkeypatch.setattr(registry_module, "entry_points", installed)


def test_loading_a_v1_plugin_warns_naming_it(v1_plugin_installed: None) -> None:
    with pytest.warns(DeprecationWarning, match=WARNING) as warned:
        registry = load_registry()
    assert len(warned) == 1
    adapted = registry.get("quiet")
    assert issubclass(adapted, V1Adapter) and adapted.legacy is WhisperFormatter
    assert (adapted.name, adapted.aliases, adapted.description) == (
        "whisper",
        ("quiet",),
        "The answer in lower case (a v1 plugin)",
    )
    assert "patternfly" in registry.names() and "shout" in registry.names()


def test_the_adapter_reads_the_v1_text_into_values_that_encode_to_the_same_bytes() -> None:
    with pytest.warns(DeprecationWarning, match="'whisper-plugin'"):
        adapter = adapt(WhisperFormatter, "whisper-plugin")()
    legacy = WhisperFormatter()
    events: list[Event] = [
        TextDeltaEvent(chunk=0, text="Hello"),
        HeartbeatEvent(),
        ErrorEvent(message="Boom"),
        EndEvent(),
    ]
    values = [adapter.format(event) for event in events]
    assert values == [
        [Frame("hello\n~", event="whisper", id="1")],
        [Comment("still\nwhispering")],
        [Frame("boom", event="error")],
        [Frame("the end", event="end"), Comment("bye")],
    ]
    for event, frames in zip(events, values, strict=True):
        assert encode(frames) == "".join(legacy.format(event))


async def test_a_v1_plugin_serves_the_bytes_it_did(
    v1_plugin_installed: None, agents_client: Any, fake_agents: Any
) -> None:
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:3], Sleep(0.7), *steps[3:]]
    with pytest.warns(DeprecationWarning, match=WARNING):
        client = await agents_client(heartbeat_interval=0.3)
    response = await client.post("/v1/streaming_query?format=whisper", json={"query": "Hi"})
    assert response.status == 200
    frames = split_frames(await response.read())
    assert frames[:2] == [
        "event: whisper\nid: 1\ndata: hello \ndata: ~\n\n",
        "event: whisper\nid: 2\ndata: from \ndata: ~\n\n",
    ]
    assert frames[2:4] == [": still\n: whispering\n\n"] * 2
    assert frames[-3:] == [
        "event: whisper\nid: 10\ndata: answer.\ndata: ~\n\n",
        "event: end\ndata: the end\n\n",
        ": bye\n\n",
    ]


async def test_a_v1_plugin_s_resumable_stream_is_stamped(
    v1_plugin_installed: None, agents_client: Any, fake_agents: Any
) -> None:
    fake_agents.steps = fixture_steps("text.sse")
    with pytest.warns(DeprecationWarning, match=WARNING):
        client = await agents_client(resume_window=5)
    response = await client.post("/v1/streaming_query?format=whisper", json={"query": "Hi"})
    assert response.status == 200
    stream_id = response.headers["X-Stream-ID"]
    words = ["hello ", "from ", "the ", "fake ", "model. ", "this ", "is ", "a ", "scripted "]
    assert (await response.read()).decode() == "".join(
        [
            *(
                f"event: whisper\ndata: {word}\ndata: ~\nid: {stream_id}:{seq}\n\n"
                for seq, word in enumerate([*words, "answer."])
            ),
            f"event: end\ndata: the end\nid: {stream_id}:10\n\n",
            ": bye\n",  # a comment after an id: no blank line
        ]
    )
