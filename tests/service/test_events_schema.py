"""`GET /v1/events/schema`: the JSON Schema of the normalized events the `raw` format sends."""

from __future__ import annotations

from typing import get_args

from formatters.events import Event, event_json_schema


async def test_the_schema_of_the_normalized_events_is_published(make_client):
    client = await make_client()
    response = await client.get("/v1/events/schema")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    schema = await response.json()
    assert schema == event_json_schema()
    event_types = {member.model_fields["type"].default for member in get_args(get_args(Event)[0])}
    assert set(schema["discriminator"]["mapping"]) == event_types
    assert {"start", "text_delta", "tool_call", "heartbeat", "end"} <= event_types


async def test_every_raw_frame_of_a_demo_turn_is_an_event_of_the_schema(make_client):
    client = await make_client()
    schema = await (await client.get("/v1/events/schema")).json()
    response = await client.post("/v1/streaming_query?format=raw", json={"query": "hi"})
    frames = (await response.read()).decode().removesuffix("\n\n").split("\n\n")
    mapping = schema["discriminator"]["mapping"]
    names = [frame.split("\n")[0].removeprefix("event: ") for frame in frames]
    assert names[0] == "start" and names[-1] == "end"
    assert set(names) <= set(mapping)
    assert {"shield", "tool_call", "tool_result", "documents", "text_delta"} <= set(names)
