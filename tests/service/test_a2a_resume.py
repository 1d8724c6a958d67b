"""A2A's way back: `SubscribeToTask` after the stream was cut, at random points, on any replica.

Each subscription starts with the task as it stands (its answer so far in one artifact), then
the frames after it: what a client holds after each cut is a prefix of the whole answer, and at
the end it is the whole answer, nothing lost or doubled.
"""

from __future__ import annotations

import json
import random
from typing import Any

import aiohttp
import pytest

from fakes.agents_upstream import FakeAgentsUpstream, Sleep, fixture_steps
from service.keys import RESUMER
from service.resume.store import StoreUnavailable
from tests.service.sse_reader import SseReader, read_events
from tests.service.test_resume_redis import StartReplica, replica  # noqa: F401 (a fixture)

URL = "/a2a"
CUTS = 5


def rpc(method: str, params: dict[str, Any], rpc_id: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rpc_id, "method": method, "params": params}


MESSAGE = {"message": {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "A story."}]}}


class View:
    """What a client knows of the task: the latest snapshot's answer and the chunks after it."""

    def __init__(self) -> None:
        self.text = ""
        self.task_id = ""
        self.state = ""

    def take(self, data: str, rpc_id: str) -> None:
        response = json.loads(data)
        assert response["id"] == rpc_id, "every frame answers the request it is read on"
        ((kind, value),) = response["result"].items()
        if kind == "task":
            self.task_id = value["id"]
            self.state = value["status"]["state"]
            artifacts = value.get("artifacts", [])
            self.text = "".join(part["text"] for a in artifacts for part in a["parts"])
        elif kind == "artifactUpdate":
            text = "".join(part["text"] for part in value["artifact"]["parts"])
            self.text = self.text + text if value.get("append") else text
        else:
            self.state = value["status"]["state"]


def paced_long_answer(pause: float) -> list[Any]:
    """long.sse (303 chunks of a real llama-stack answer), `pause` seconds between chunks."""
    return [item for step in fixture_steps("long.sse") for item in (step, Sleep(pause))]


async def whole_answer(client: Any) -> str:
    view = View()
    response = await client.post(URL, json=rpc("SendStreamingMessage", MESSAGE, "whole"))
    reader = SseReader()
    reader.feed((await response.read()).decode())
    for event in reader.events:
        view.take(event.data, "whole")
    assert view.state == "TASK_STATE_COMPLETED"
    return view.text


async def test_a_stream_cut_five_times_at_random_and_resubscribed_gives_the_answer_once(
    agents_client, fake_agents, store
):
    fake_agents.steps = paced_long_answer(0.0)
    client = await agents_client(resume_window=30, heartbeat_interval=5, **store)
    expected = await whole_answer(client)
    fake_agents.steps = paced_long_answer(0.01)
    rng = random.Random(19)
    view = View()
    response = await client.post(URL, json=rpc("SendStreamingMessage", MESSAGE, "send"))
    rpc_id = "send"
    for cut in range(CUTS + 1):
        reader = SseReader()
        if cut == CUTS:
            reader.feed((await response.read()).decode())
        else:
            await read_events(response, reader, rng.randint(3, 40))
            response.close()
        for event in reader.events:
            view.take(event.data, rpc_id)
        assert expected.startswith(view.text), f"after cut {cut}: lost or doubled"
        if cut < CUTS:
            rpc_id = f"subscribe-{cut}"
            subscribe = rpc("SubscribeToTask", {"id": view.task_id}, rpc_id)
            response = await client.post(URL, json=subscribe)
            assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8", (
                await response.text()
            )
    assert (view.state, view.text) == ("TASK_STATE_COMPLETED", expected)
    assert len(fake_agents.turns) == 2, "one turn for the reference, one for the cut task"


@pytest.mark.redis
async def test_a_task_started_on_one_replica_is_subscribed_and_got_on_another(
    replica: StartReplica,  # noqa: F811
    fake_agents: FakeAgentsUpstream,
):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:4], Sleep(1.0), *steps[4:]]
    a, b = await replica(), await replica()
    view = View()
    async with aiohttp.ClientSession() as session:
        first = await session.post(f"{a.base}{URL}", json=rpc("SendStreamingMessage", MESSAGE, "s"))
        reader = SseReader()
        await read_events(first, reader, 3)
        first.close()
        for event in reader.events:
            view.take(event.data, "s")
        subscribe = rpc("SubscribeToTask", {"id": view.task_id}, "r")
        again = await session.post(f"{b.base}{URL}", json=subscribe)
        rest = SseReader()
        rest.feed((await again.read()).decode())
        for event in rest.events:
            view.take(event.data, "r")
        got = await session.post(f"{b.base}{URL}", json=rpc("GetTask", {"id": view.task_id}, "g"))
        task = (await got.json())["result"]
    answer = "Hello from the fake model. This is a scripted answer."
    assert (view.state, view.text) == ("TASK_STATE_COMPLETED", answer)
    assert task["status"]["state"] == "TASK_STATE_COMPLETED"
    assert task["artifacts"] == [
        {"artifactId": "answer", "name": "answer", "parts": [{"text": answer}]}
    ]
    assert len(fake_agents.turns) == 1


async def test_a_store_that_fails_mid_subscription_ends_it_with_a_failed_status(
    agents_client, fake_agents, monkeypatch
):
    steps = fixture_steps("text.sse")
    fake_agents.steps = [*steps[:4], Sleep(1.0), *steps[4:]]
    client = await agents_client(resume_window=30)
    first = await client.post(URL, json=rpc("SendStreamingMessage", MESSAGE, "s"))
    reader = SseReader()
    await read_events(first, reader, 3)
    view = View()
    for event in reader.events:
        view.take(event.data, "s")
    store = client.server.app[RESUMER].store
    follow = store.follow

    async def failing(*args: Any) -> Any:
        async for batch in follow(*args):
            yield batch
            raise StoreUnavailable("Redis went away")

    monkeypatch.setattr(store, "follow", failing)
    subscribed = await client.post(URL, json=rpc("SubscribeToTask", {"id": view.task_id}, "r"))
    rest = SseReader()
    rest.feed((await subscribed.read()).decode())
    last = json.loads(rest.events[-1].data)
    assert [json.loads(event.data)["id"] for event in rest.events] == ["r", "r"]
    assert last["result"]["statusUpdate"]["status"]["state"] == "TASK_STATE_FAILED"
    assert last["result"]["statusUpdate"]["status"]["message"]["parts"] == [
        {"text": "The service lost the store that keeps this answer; please ask again."}
    ]
    first.close()
