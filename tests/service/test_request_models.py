"""The streaming query body takes every field of lightspeed-stack 0.7.1's QueryRequest."""

from __future__ import annotations

import json

import pytest
from structlog.testing import capture_logs

from fakes.agents_upstream import fixture_steps
from service.http.models.query import QueryRequest
from service.upstream import requested_model
from service.upstream.turn import Attachment, TurnRequest
from tests.conftest import split_frames

LIGHTSPEED_0_7_1_FIELDS = {
    "query",
    "conversation_id",
    "provider",
    "model",
    "system_prompt",
    "attachments",
    "no_tools",
    "generate_topic_summary",
    "media_type",
    "vector_store_ids",
    "shield_ids",
    "solr",
}
"""The fields of `models/api/requests/query.py:QueryRequest` in the lightspeed-stack 0.7.1 wheel."""

ANSIBLE_PROXY_BODY = {
    "query": "How do I write a playbook that installs nginx?",
    "model": "granite-3.3-8b-instruct",
    "provider": "rhoai",
    "generate_topic_summary": False,
    "system_prompt": "You are Ansible Lightspeed Intelligent Assistant.",
    "media_type": "application/json",
}
"""What ansible-ai-connect-service's HttpStreamingChatBotPipeline.async_invoke posts to
/v1/streaming_query (no conversation_id on a first turn, no no_tools unless it is true)."""

EVERY_FIELD_BODY = {
    "query": "What is OpenShift?",
    "provider": "rhoai",
    "model": "granite-3.3-8b-instruct",
    "system_prompt": "Be brief.",
    "attachments": [{"attachment_type": "log", "content_type": "text/plain", "content": "oops"}],
    "no_tools": True,
    "generate_topic_summary": True,
    "media_type": "text/plain",
    "vector_store_ids": ["ocp_docs", "knowledge_base"],
    "shield_ids": ["topic-guard"],
    "solr": {"mode": "hybrid", "filters": {"fq": ["product:*openshift*"]}},
}
IGNORED_LINE = "request fields accepted and ignored"


def test_the_model_has_exactly_the_fields_of_lightspeed_stack_0_7_1():
    # and the gateway's one addition: decisions on tool approval requests (issue 20)
    assert set(QueryRequest.model_fields) == LIGHTSPEED_0_7_1_FIELDS | {"tool_approvals"}


def events_of(body: bytes) -> list[str]:
    return [json.loads(frame.removeprefix("data: "))["event"] for frame in split_frames(body)]


async def test_the_body_the_ansible_proxy_sends_streams_the_turn(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    with capture_logs() as logs:
        response = await client.post("/v1/streaming_query", json=ANSIBLE_PROXY_BODY)
        body = await response.read()
    assert response.status == 200, body
    assert events_of(body)[0] == "start"
    assert events_of(body)[-2:] == ["turn_complete", "end"]
    (agent,) = fake_agents.agents
    assert agent["agent_config"]["model"] == "rhoai/granite-3.3-8b-instruct"
    assert agent["agent_config"]["instructions"] == ANSIBLE_PROXY_BODY["system_prompt"]
    ignored = [e for e in logs if e["event"] == IGNORED_LINE]
    assert ignored == [
        {
            "event": IGNORED_LINE,
            "fields": ["generate_topic_summary"],
            "log_level": "debug",
        }
    ]


async def test_a_body_with_every_0_7_1_field_streams_and_the_known_ones_still_work(
    agents_client, fake_agents
):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client(
        agent_toolgroups="builtin::websearch", allowed_vector_store_ids="ocp_docs,knowledge_base"
    )
    with capture_logs() as logs:
        response = await client.post("/v1/streaming_query", json=EVERY_FIELD_BODY)
        body = await response.read()
    assert response.status == 200, body
    assert body == b"Hello from the fake model. This is a scripted answer."  # text/plain
    (agent,) = fake_agents.agents
    assert agent["agent_config"]["model"] == "rhoai/granite-3.3-8b-instruct"
    assert agent["agent_config"]["instructions"] == "Be brief."
    assert agent["agent_config"]["toolgroups"] == []
    assert fake_agents.turns[0]["body"]["documents"] == [
        {"content": "oops", "mime_type": "text/plain"}
    ]
    ignored = [e["fields"] for e in logs if e["event"] == IGNORED_LINE]
    assert ignored == [["generate_topic_summary", "shield_ids", "solr"]]


async def test_a_body_with_only_known_fields_logs_nothing_ignored(agents_client, fake_agents):
    fake_agents.steps = fixture_steps("text.sse")
    client = await agents_client()
    with capture_logs() as logs:
        await (await client.post("/v1/streaming_query", json={"query": "Hi"})).read()
    assert [e for e in logs if e["event"] == IGNORED_LINE] == []


@pytest.mark.parametrize(
    "extra",
    [
        {"no_tools": None},
        {"generate_topic_summary": None},
        {"solr": {"fq": ["product:*openshift*"]}},
        {"solr": {"mode": "keyword"}},
        {"solr": None},
        {"vector_store_ids": []},
    ],
    ids=repr,
)
def test_values_lightspeed_stack_0_7_1_accepts_are_accepted(extra):
    QueryRequest.model_validate_json(json.dumps({"query": "Hi", **extra}))


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        (
            {"query": "Hi", "solr": {"mode": "fuzzy"}},
            "solr.mode: Input should be 'semantic', 'hybrid', 'lexical' or 'keyword'",
        ),
        ({"query": "Hi", "shield_ids": "topic-guard"}, "shield_ids: Input should be a valid array"),
        (
            {"query": "Hi", "generate_topic_summary": "yes"},
            "generate_topic_summary: Input should be a valid boolean",
        ),
        ({"query": "Hi", "topic_summary": True}, "topic_summary: Extra inputs are not permitted"),
    ],
)
async def test_anything_else_is_still_422(make_client, body, cause):
    client = await make_client()
    response = await client.post("/v1/streaming_query", json=body)
    assert response.status == 422
    assert await response.json() == {"detail": {"response": "Invalid request", "cause": cause}}


def test_the_body_becomes_the_turn_request_the_adapters_read():
    body = QueryRequest.model_validate(
        {
            **ANSIBLE_PROXY_BODY,
            "query": "Why?",
            "conversation_id": "conv-1",
            "provider": "p",
            "model": "m",
            "system_prompt": "Be brief.",
            "no_tools": None,
            "attachments": [
                {"attachment_type": "log", "content_type": "text/plain", "content": "x"}
            ],
            "vector_store_ids": ["vs-1"],
        }
    )
    assert body.to_turn() == TurnRequest(
        query="Why?",
        conversation_id="conv-1",
        model="m",
        provider="p",
        system_prompt="Be brief.",
        no_tools=False,
        attachments=(Attachment("log", "text/plain", "x"),),
        vector_store_ids=("vs-1",),
    )
    assert requested_model(body.to_turn()) == "p/m"
