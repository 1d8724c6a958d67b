"""A whole answer's client cannot answer an approval request: the tool is denied at once and the
answer says so (non-streamed chat completions, Anthropic messages, lightspeed's `/v1/query`)."""

from __future__ import annotations

from typing import Any

from service.http.app import create_app
from service.settings import Settings

QUESTION = "Please restart_service the gateway."
REASON = "This client cannot approve tool calls, so restart_service was not run."
DEMO_ANSWER = f"I did not run restart_service: it was not approved. Reason: {REASON}"
"""What the demo agent answers when the gateway denies its guarded tool."""
SAID = f"\n\n*{REASON}*\n\n{DEMO_ANSWER}"
"""The gateway's reason in the answer (italics, as the streamed formats say it), then the agent's."""


async def demo(aiohttp_client: Any) -> Any:
    """The service on the demo agent, with no pauses."""
    return await aiohttp_client(create_app(Settings(demo_delay=0)))


async def test_a_whole_chat_completion_denies_the_guarded_tool_and_says_so(aiohttp_client):
    client = await demo(aiohttp_client)
    messages = [{"role": "user", "content": QUESTION}]
    response = await client.post("/v1/chat/completions", json={"model": "m", "messages": messages})
    assert response.status == 200
    message = (await response.json())["choices"][0]["message"]
    assert message == {"role": "assistant", "content": SAID, "refusal": None}


async def test_a_whole_anthropic_message_denies_the_guarded_tool_and_says_so(aiohttp_client):
    client = await demo(aiohttp_client)
    body = {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": QUESTION}]}
    response = await client.post("/v1/messages", json=body)
    assert response.status == 200
    content = (await response.json())["content"]
    call_id = content[0]["id"]
    assert call_id.startswith("approval_")
    assert content == [
        {
            "type": "mcp_tool_use",
            "id": call_id,
            "name": "restart_service",
            "server_name": "agent",
            "input": {"service": "agent-stream-gateway"},
        },
        {"type": "text", "text": SAID},
    ]


async def test_a_whole_query_answer_denies_the_guarded_tool_and_says_so(aiohttp_client):
    client = await demo(aiohttp_client)
    response = await client.post("/v1/query", json={"query": QUESTION})
    assert response.status == 200
    answer = await response.json()
    assert answer["response"] == DEMO_ANSWER
    assert [call["name"] for call in answer["tool_calls"]] == ["restart_service"]
    assert answer["tool_results"] == []
