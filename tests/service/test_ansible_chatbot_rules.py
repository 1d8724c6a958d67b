"""What an Ansible Lightspeed chatbot user sees of our default format, by that frontend's rules.

The rules are ansible/ansible-ai-connect-service @ 63e8759, folder ansible_ai_connect_chatbot,
src/useChatbot/useChatbot.ts, restated as Python (read, not copied); each function names the
piece of that file it restates. Its MarkdownLinkBuffer only holds back a half-written link until
later text or the stream's end, so it changes no final content and is left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.service.frontend_turns import (
    DEMO_QUESTION,
    SHIELD_REFUSAL,
    TOOL_ANSWER,
    UPSTREAM_FAILURE,
    patternfly_body,
)

DEMO_ANSWER = (
    "agent-stream-gateway sits between your chat frontend and a llama-stack agent. It turns the "
    "agent's stream into the SSE dialect your frontend speaks, and sends heartbeats while the "
    "agent is busy, so no proxy mistakes a thinking agent for a dead one."
)
_INFERENCE_PROMPT = "\n\n`inference>`"  # useChatbot.ts, INFERENCE_MESSAGE_PROMPT


@dataclass
class Message:
    """One entry of the chatbot's `messages` state (ExtendedMessage)."""

    role: str
    content: str
    collapse: bool = False
    referenced_documents: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Screen:
    """What the chatbot shows: its messages and its alert."""

    messages: list[Message]
    alerts: list[tuple[Any, Any]] = field(default_factory=list)

    def visible_answer(self) -> str:
        """The last bot message, which the chatbot shows outside any "Show more" section."""
        (answer,) = [m for m in self.messages if m.role == "bot" and not m.collapse]
        return answer.content


def sse_messages(body: str) -> list[dict[str, Any]]:
    """fetch-event-source's parse, then `onmessage`'s: no SSE event name, so JSON.parse(msg.data)."""
    messages = []
    for block in body.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        assert not any(line.startswith("event:") for line in lines), block
        data = "\n".join(line.removeprefix("data:").removeprefix(" ") for line in lines)
        if data:
            messages.append(json.loads(data))
    return messages


def append_message_chunk(screen: Screen, chunk: str) -> None:
    """useChatbot.ts, `appendMessageChunk`: a new bot message after the user's, else append."""
    last = screen.messages[-1]
    if last.role == "user":
        screen.messages.append(Message("bot", chunk))
    else:
        last.content += chunk


def js_stringify(value: Any) -> str:
    """`JSON.stringify` of a JSON value: compact, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def on_message(screen: Screen, message: dict[str, Any]) -> None:
    """useChatbot.ts, `handleSend` → fetchEventSource's `onmessage`, event by event."""
    event, data = message["event"], message["data"]
    if event == "token":
        append_message_chunk(screen, data["token"])
    elif event == "end":
        if data["referenced_documents"]:
            screen.messages[-1].referenced_documents = data["referenced_documents"]
    elif event == "error":
        screen.alerts.append((data.get("response"), data.get("cause")))
    elif event in ("tool_call", "step_complete"):
        append_message_chunk(
            screen, f"\n\n`[{event}]`\n```json\n{js_stringify(data['token'])}\n```\n"
        )
    elif event == "turn_complete":
        turn_complete(screen, data["token"])


def turn_complete(screen: Screen, token: str) -> None:
    """The `turn_complete` branch: fold the streamed message away, show the whole answer."""
    last = screen.messages[-1]
    prompts = last.content.count(_INFERENCE_PROMPT)
    if prompts == 1:
        last.content = last.content.replace(_INFERENCE_PROMPT, "", 1).replace("<noinput>", "", 1)
        return
    if prompts > 1:
        last.content = last.content[: last.content.rindex(_INFERENCE_PROMPT)]
    last.collapse = True
    screen.messages.append(Message("bot", token))


def show(body: str) -> Screen:
    """The screen after one question and its stream."""
    screen = Screen([Message("user", "the question")])
    for message in sse_messages(body):
        on_message(screen, message)
    return screen


def tool_blocks(screen: Screen) -> list[dict[str, Any]]:
    """The JSON code blocks the chatbot drew for `tool_call` frames, in order."""
    blocks = []
    for message in screen.messages:
        for part in message.content.split("\n\n`[tool_call]`\n```json\n")[1:]:
            blocks.append(json.loads(part.split("\n```\n")[0]))
    return blocks


def assert_one_block_per_call_and_one_result(blocks: list[dict[str, Any]]) -> None:
    """Each call: one block with its name and arguments, one with its result; nothing else."""
    calls = [b for b in blocks if "arguments" in b]
    results = [b for b in blocks if "arguments" not in b]
    assert calls and len(calls) + len(results) == len(blocks)
    assert sorted(b["call_id"] for b in calls) == sorted(b["call_id"] for b in results)
    assert len({b["call_id"] for b in calls}) == len(calls)
    for block in calls:
        assert isinstance(block["tool_name"], str) and block["tool_name"]
        assert isinstance(block["arguments"], dict)
    for block in results:
        assert block["status"] == "success"
        assert isinstance(block.get("summary", block.get("response")), str)


@pytest.fixture
async def screen_of(make_client: Any, agents_client: Any, fake_agents: Any) -> Any:
    async def screen(turn: str) -> Screen:
        return show(await patternfly_body(turn, make_client, agents_client, fake_agents))

    return screen


async def test_the_demo_turn_shows_the_answer_once_and_clean_with_its_tools(screen_of: Any) -> None:
    screen = await screen_of("demo")
    assert screen.visible_answer() == DEMO_ANSWER
    assert screen.alerts == []
    (streamed,) = [m for m in screen.messages if m.collapse]
    assert streamed.content.endswith("\n```\n" + DEMO_ANSWER)
    assert "Violation" not in streamed.content
    blocks = tool_blocks(screen)
    assert_one_block_per_call_and_one_result(blocks)
    assert [(b["tool_name"], b.get("arguments")) for b in blocks if "arguments" in b] == [
        ("knowledge_search", {"query": DEMO_QUESTION}),
        ("get_gateway_status", {"replicas": 3}),
    ]
    assert [d["doc_title"] for d in screen.messages[-1].referenced_documents] == [
        "What agent-stream-gateway does",
        "Stream formats",
    ]


async def test_a_tool_turn_shows_one_block_per_call_and_one_result(screen_of: Any) -> None:
    screen = await screen_of("tool")
    assert screen.visible_answer() == TOOL_ANSWER
    assert tool_blocks(screen) == [
        {"tool_name": "get_weather", "call_id": "call_fake_0001", "arguments": {"city": "test"}},
        {
            "tool_name": "get_weather",
            "call_id": "call_fake_0001",
            "status": "success",
            "response": '{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}',
        },
    ]


async def test_a_shield_violation_shows_the_refusal_as_the_answer(screen_of: Any) -> None:
    screen = await screen_of("shield")
    assert screen.visible_answer() == SHIELD_REFUSAL
    assert [m.content for m in screen.messages] == ["the question", SHIELD_REFUSAL, SHIELD_REFUSAL]
    assert screen.alerts == []


async def test_an_upstream_error_shows_a_titled_alert_with_its_text(screen_of: Any) -> None:
    screen = await screen_of("error")
    assert screen.alerts == [("The agent failed", UPSTREAM_FAILURE)]
    assert screen.visible_answer() == "This answer will fail "
