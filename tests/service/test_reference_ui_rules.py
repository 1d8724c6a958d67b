"""What a lightspeed-reference-ui user sees of our default format, by that frontend's rules.

The rules are lightspeed-core/lightspeed-reference-ui @ fe02678, restated as Python (read, not
copied); each function names the function of src/app/LightspeedChatbot it restates. The UI reads
no `error` frame (nor `turn_complete`, `heartbeat`, `interrupted`): an upstream failure shows as
the answer as far as it came, which the last test pins.
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
    patternfly_body,
)
from tests.service.test_ansible_chatbot_rules import DEMO_ANSWER


@dataclass
class BotMessage:
    """The bot message of one question: its text, tool cards and sources."""

    content: str = ""
    tool_cards: list[str] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    conversation_id: str | None = None


def stream_events(body: str) -> list[dict[str, Any]]:
    """services/api.ts, `sendStreamingQuery`: every line starting `data: `, JSON-parsed.

    It splits each network read on newlines; the whole body is one read here (our frames are
    one line each, so a read boundary changes nothing but where a line may be cut).
    """
    return [json.loads(line[6:]) for line in body.split("\n") if line.startswith("data: ")]


def on_tool_call(message: BotMessage, data: dict[str, Any]) -> None:
    """hooks/useChatbot.ts, `handleSendMessage`'s onToolCall: a card for `{tool_name, arguments}`.

    Only a token object with a string `tool_name` and an object `arguments` makes a card, shown
    as `name(JSON.stringify(arguments))` (`typeof null` is "object" too); anything else (a
    result, a string) draws nothing.
    """
    token = data["token"]
    if (
        isinstance(token, dict)
        and isinstance(token.get("tool_name"), str)
        and isinstance(token.get("arguments", ""), dict | list | None)
    ):
        arguments = json.dumps(token["arguments"], separators=(",", ":"), ensure_ascii=False)
        message.tool_cards.append(f"{token['tool_name']}({arguments})")


def show(body: str) -> BotMessage:
    """`sendStreamingQuery`'s switch with `handleSendMessage`'s callbacks, over one stream."""
    message = BotMessage()
    for event in stream_events(body):
        data = event["data"]
        match event["event"]:
            case "start":
                message.conversation_id = data["conversation_id"]
            case "tool_call":
                on_tool_call(message, data)
            case "token":
                assert isinstance(data["token"], str)  # `streamingContent += token`
                message.content += data["token"]
            case "end":
                documents = data["referenced_documents"] or []
                message.sources = [(doc["doc_title"], doc["doc_url"]) for doc in documents]
    return message


@pytest.fixture
async def message_of(make_client: Any, agents_client: Any, fake_agents: Any) -> Any:
    async def message(turn: str) -> BotMessage:
        return show(await patternfly_body(turn, make_client, agents_client, fake_agents))

    return message


async def test_the_demo_turn_shows_the_answer_once_and_clean_with_one_card_per_call(
    message_of: Any,
) -> None:
    message = await message_of("demo")
    assert message.content == DEMO_ANSWER
    assert message.tool_cards == [
        f'knowledge_search({{"query":"{DEMO_QUESTION}"}})',
        'get_gateway_status({"replicas":3})',
    ]
    assert message.sources == [
        (
            "What agent-stream-gateway does",
            "https://docs.example.com/agent-stream-gateway/overview",
        ),
        ("Stream formats", "https://docs.example.com/agent-stream-gateway/formats"),
    ]
    assert message.conversation_id


async def test_a_tool_turn_shows_one_card_and_its_results_add_none(message_of: Any) -> None:
    message = await message_of("tool")
    assert message.tool_cards == ['get_weather({"city":"test"})']
    assert message.content == TOOL_ANSWER


async def test_a_shield_violation_shows_the_refusal_as_the_answer(message_of: Any) -> None:
    message = await message_of("shield")
    assert message.content == SHIELD_REFUSAL
    assert message.tool_cards == []


async def test_an_error_frame_is_not_read_so_the_answer_stops_where_it_came(
    message_of: Any, make_client: Any, agents_client: Any, fake_agents: Any
) -> None:
    body = await patternfly_body("error", make_client, agents_client, fake_agents)
    assert '{"event": "error", ' in body  # sent, and (this UI's rule) not read
    message = show(body)
    assert message.content == "This answer will fail "
    assert message.tool_cards == []
