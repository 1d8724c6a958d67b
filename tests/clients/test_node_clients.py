"""Node clients (tests/clients/package.json) read every format from a live service.

eventsource-parser parses each format by the WHATWG rules; @microsoft/fetch-event-source reads
`patternfly` as PatternFly chatbot frontends do; the `ai` package's chat reads `vercel` as
`useChat` does. Every stream has an idle stretch (heartbeats), and each client sees a tool call
turn and a turn that fails upstream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import LiveService
from tests.clients.scenarios import TOOL_ANSWER, UPSTREAM_ERROR, failing_turn, tool_turn

pytestmark = pytest.mark.node

CLIENTS = Path(__file__).parent
QUESTION = {"query": "What is the weather in Paris?"}


async def run(node: str, script: str, **job: Any) -> dict[str, Any]:
    """Run one client script with a JSON job; return the JSON it reports."""
    process = await asyncio.create_subprocess_exec(
        node,
        str(CLIENTS / script),
        json.dumps(job),
        cwd=CLIENTS,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    answer: dict[str, Any] = json.loads(stdout)
    return answer


def data_of(result: dict[str, Any]) -> list[Any]:
    """Every event's data as JSON, `[DONE]` kept as the string it is."""
    return [e["data"] if e["data"] == "[DONE]" else json.loads(e["data"]) for e in result["events"]]


def patternfly_heartbeats(result: dict[str, Any]) -> int:
    return sum(data["event"] == "heartbeat" for data in data_of(result))


def raw_heartbeats(result: dict[str, Any]) -> int:
    return sum(event["event"] == "heartbeat" for event in result["events"])


def comment_heartbeats(result: dict[str, Any]) -> int:
    assert set(result["comments"]) == {"keep-alive"}
    return len(result["comments"])


def patternfly_tool_calls(result: dict[str, Any]) -> list[str]:
    return [d["data"]["token"] for d in data_of(result) if d["event"] == "tool_call"]


def raw_tool_calls(result: dict[str, Any]) -> list[str]:
    return [d["name"] for d in data_of(result) if d["type"] == "tool_call"]


def openai_tool_calls(result: dict[str, Any]) -> list[str]:
    """The agent's tool calls: aside in `gateway_event`, never `tool_calls` a client would run."""
    chunks = [d for d in data_of(result)[:-1] if "choices" in d]
    deltas = [choice["delta"] for chunk in chunks for choice in chunk["choices"]]
    assert not any("tool_calls" in delta for delta in deltas)
    aside = [chunk["gateway_event"] for chunk in chunks if "gateway_event" in chunk]
    return [event["name"] for event in aside if event["type"] == "tool_call"]


def vercel_tool_calls(result: dict[str, Any]) -> list[str]:
    parts = data_of(result)[:-1]
    return [part["toolName"] for part in parts if part["type"] == "tool-input-available"]


def patternfly_errors(result: dict[str, Any]) -> list[str]:
    return [d["data"]["token"] for d in data_of(result) if d["event"] == "error"]


def raw_errors(result: dict[str, Any]) -> list[str]:
    return [d["message"] for d in data_of(result) if d["type"] == "error"]


def openai_errors(result: dict[str, Any]) -> list[str]:
    return [d["error"]["message"] for d in data_of(result)[:-1] if "error" in d]


def vercel_errors(result: dict[str, Any]) -> list[str]:
    return [d["errorText"] for d in data_of(result)[:-1] if d["type"] == "error"]


Reader = Callable[[dict[str, Any]], Any]
FORMATS: dict[str, tuple[Reader, Reader, Reader, Reader]] = {
    "patternfly": (
        lambda r: data_of(r)[-1]["event"] == "end",
        patternfly_heartbeats,
        patternfly_tool_calls,
        patternfly_errors,
    ),
    "raw": (
        lambda r: r["events"][-1]["event"] == "end",
        raw_heartbeats,
        raw_tool_calls,
        raw_errors,
    ),
    "openai": (
        lambda r: r["events"][-1]["data"] == "[DONE]",
        comment_heartbeats,
        openai_tool_calls,
        openai_errors,
    ),
    "vercel": (
        lambda r: data_of(r)[-2:] == [{"type": "finish", "finishReason": "stop"}, "[DONE]"],
        comment_heartbeats,
        vercel_tool_calls,
        vercel_errors,
    ),
}


async def parse(node: str, base_url: str, format_name: str) -> dict[str, Any]:
    url = f"{base_url}/v1/streaming_query?format={format_name}"
    result = await run(node, "sse_events.mjs", url=url, body=QUESTION)
    assert result["status"] == 200
    assert result["headers"]["content-type"] == "text/event-stream; charset=utf-8"
    assert result["errors"] == []
    assert result["complete"]
    return result


@pytest.mark.parametrize("format_name", FORMATS)
async def test_eventsource_parser_reads_a_tool_turn_with_heartbeats(
    node, live_service: LiveService, format_name
):
    ends_well, heartbeats, tool_calls, errors = FORMATS[format_name]
    result = await parse(node, await live_service(tool_turn()), format_name)
    assert ends_well(result)
    assert heartbeats(result) >= 2
    assert tool_calls(result)
    assert errors(result) == []


@pytest.mark.parametrize("format_name", FORMATS)
async def test_eventsource_parser_reads_an_upstream_error_then_the_terminal_frame(
    node, live_service: LiveService, format_name
):
    _, heartbeats, _, errors = FORMATS[format_name]
    result = await parse(node, await live_service(failing_turn()), format_name)
    assert heartbeats(result) >= 2
    assert errors(result) == [UPSTREAM_ERROR]
    terminal = {
        "patternfly": lambda: data_of(result)[-1]["event"] == "end",
        "raw": lambda: [e["event"] for e in result["events"][-2:]] == ["turn_error", "end"],
        "openai": lambda: [e["data"] for e in result["events"][-1:]] == ["[DONE]"],
        "vercel": lambda: (
            data_of(result)[-2:] == [{"type": "finish", "finishReason": "error"}, "[DONE]"]
        ),
    }
    assert terminal[format_name]()


async def test_vercel_stream_header_reaches_the_client(node, live_service: LiveService):
    result = await parse(node, await live_service(tool_turn()), "vercel")
    assert result["headers"]["x-vercel-ai-ui-message-stream"] == "v1"


async def test_fetch_event_source_reads_patternfly_like_the_chatbot_does(
    node, live_service: LiveService
):
    url = f"{await live_service(tool_turn())}/v1/streaming_query"
    result = await run(node, "fetch_event_source.mjs", url=url, body=QUESTION)
    assert result["errors"] == []
    assert result["closed"]
    assert result["contentType"] == "text/event-stream; charset=utf-8"
    events = [message["event"] for message in result["messages"]]
    assert events[0] == "start"
    assert events[-2:] == ["turn_complete", "end"]
    assert events.count("heartbeat") >= 2
    tokens = [m["data"].get("token") for m in result["messages"] if m["event"] == "tool_call"]
    call = {"tool_name": "get_weather", "call_id": "call_fake_0001", "arguments": {"city": "test"}}
    assert call in tokens
    assert result["messages"][-2]["data"]["token"] == TOOL_ANSWER


async def test_fetch_event_source_reads_a_patternfly_upstream_error(
    node, live_service: LiveService
):
    url = f"{await live_service(failing_turn())}/v1/streaming_query"
    result = await run(node, "fetch_event_source.mjs", url=url, body=QUESTION)
    assert result["errors"] == []
    events = [message["event"] for message in result["messages"]]
    assert events.count("heartbeat") >= 2
    assert events[-2:] == ["error", "end"]
    assert result["messages"][-2]["data"]["token"] == UPSTREAM_ERROR


async def test_the_ai_sdk_chat_builds_the_message_from_a_tool_turn(node, live_service: LiveService):
    url = f"{await live_service(tool_turn())}/v1/streaming_query?format=vercel"
    result = await run(node, "ai_chat.mjs", url=url, question=QUESTION["query"])
    assert result["errors"] == []
    assert result["status"] == "ready"
    assert result["finish"] == {
        "finishReason": "stop",
        "isError": False,
        "isAbort": False,
        "isDisconnect": False,
    }
    assert result["toolCallsForClient"] == []
    assert result["received"].count(": keep-alive\n\n") >= 2
    user, assistant = result["messages"]
    assert user["role"] == "user"
    assert assistant["metadata"]["conversation_id"]
    parts = [part for part in assistant["parts"] if part["type"] != "step-start"]
    assert parts == [
        {
            "type": "dynamic-tool",
            "toolName": "get_weather",
            "toolCallId": "call_fake_0001",
            "state": "output-available",
            "input": {"city": "test"},
            "output": [
                {
                    "type": "text",
                    "text": '{"city": "test", "temperature_c": 21, "sky": "clear", "source": "mcp"}',
                }
            ],
            "providerExecuted": True,
        },
        {"type": "text", "text": TOOL_ANSWER, "state": "done"},
    ]


async def test_the_ai_sdk_chat_reports_an_upstream_error(node, live_service: LiveService):
    url = f"{await live_service(failing_turn())}/v1/streaming_query?format=vercel"
    result = await run(node, "ai_chat.mjs", url=url, question=QUESTION["query"])
    assert result["errors"] == [UPSTREAM_ERROR]
    assert result["status"] == "error"
    assert result["finish"]["isError"] is True
    assert result["received"].count(": keep-alive\n\n") >= 2
    assistant = result["messages"][-1]
    texts = [part["text"] for part in assistant["parts"] if part["type"] == "text"]
    assert texts == ["This answer will fail "]


async def test_eventsource_keeps_the_raw_error_frame_apart_from_its_own_error_event(
    node, live_service: LiveService
):
    url = f"{await live_service(failing_turn())}/v1/streaming_query?format=raw"
    result = await run(node, "eventsource_raw.mjs", url=url, body=QUESTION)
    assert result["errorEvents"] == []
    assert [error["message"] for error in result["turnErrors"]] == [UPSTREAM_ERROR]
    assert result["names"][0] == "start"
    assert result["names"][-2:] == ["turn_error", "end"]
