"""A model's reasoning through a real OGX 1.5 server into every format's reasoning parts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.upstream.sse import SSEDecoder
from tests.conftest import MakeClient
from tests.e2e.conftest import HEALTH_TIMEOUT, _ensure_venv
from tests.e2e.fake_model import REASONING, TEXT_ANSWER
from tests.e2e.processes import Server, register_servers_for_reports
from tests.e2e.reasoning_stack import start_reasoning_stack
from tests.e2e.stacks import VERSIONS

pytestmark = pytest.mark.e2e

OGX = VERSIONS["ogx-1.5.0"]
QUERY = {"query": "SCENARIO:reason Say hello."}
Payload = dict[str, Any]


@pytest.fixture(scope="module")
def reasoning_ogx(fake_model: Server, e2e_dir: Path) -> Iterator[Server]:
    """OGX 1.5 with the fake model behind remote::vllm, which passes reasoning on."""
    _ensure_venv(OGX)
    server = start_reasoning_stack(OGX, fake_model, e2e_dir / "ogx-reasoning", HEALTH_TIMEOUT)
    register_servers_for_reports(server)
    try:
        yield server
    finally:
        server.stop()


def _openai(payload: Payload) -> tuple[str, str]:
    delta = payload["choices"][0]["delta"] if payload.get("choices") else {}
    return delta.get("reasoning_content", ""), delta.get("content") or ""


def _anthropic(payload: Payload) -> tuple[str, str]:
    delta = payload.get("delta", {}) if payload["type"] == "content_block_delta" else {}
    return delta.get("thinking", ""), delta.get("text", "")


def _a2a(payload: Payload) -> tuple[str, str]:
    result = payload["result"]
    parts = result.get("statusUpdate", {}).get("status", {}).get("message", {}).get("parts", [])
    thought = "".join(part.get("data", {}).get("reasoning", "") for part in parts)
    answer = result.get("artifactUpdate", {}).get("artifact", {}).get("parts", [{}])[0]
    return thought, answer.get("text", "")


def _typed(reasoning: str, text: str, key: str = "delta") -> Callable[[Payload], tuple[str, str]]:
    def read(payload: Payload) -> tuple[str, str]:
        kind = payload.get("type")
        return payload[key] if kind == reasoning else "", payload[key] if kind == text else ""

    return read


def _lightspeed(payload: Payload) -> tuple[str, str]:
    data = payload.get("data", {})
    if payload.get("event") == "reasoning":
        return data["reasoning"], ""
    return "", data["token"] if payload.get("event") == "token" else ""


READERS: dict[str, Callable[[Payload], tuple[str, str]]] = {
    "raw": _typed("reasoning_delta", "text_delta", "text"),
    "vercel": _typed("reasoning-delta", "text-delta"),
    "ag-ui": _typed("REASONING_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT"),
    "responses": _typed("response.reasoning_text.delta", "response.output_text.delta"),
    "anthropic": _anthropic,
    "openai": _openai,
    "a2a": _a2a,
    "lightspeed-0.7": _lightspeed,
    "lightspeed-0.4": _lightspeed,
    "patternfly": _lightspeed,
}
"""Each format's reasoning and answer text of one frame's JSON."""


@pytest.mark.parametrize("stream_format", list(READERS))
async def test_a_models_reasoning_reaches_the_formats_reasoning_parts_before_the_answer(
    make_client: MakeClient, reasoning_ogx: Server, stream_format: str
) -> None:
    client = await make_client(
        llama_stack_base_url=reasoning_ogx.url,
        llama_stack_api="responses",
        responses_reasoning_effort="low",
        heartbeat_interval=2.0,
        stream_timeout=120.0,
    )
    response = await client.post(f"/v1/streaming_query?format={stream_format}", json=QUERY)
    assert response.status == 200, await response.text()
    frames = [m.data for m in SSEDecoder().feed(await response.read()) if m.data != "[DONE]"]
    read = READERS[stream_format]
    pieces = [read(json.loads(data)) for data in frames]
    reasoning = "".join(thought for thought, _ in pieces)
    answer = "".join(text for _, text in pieces)
    assert (reasoning, answer) == (REASONING, TEXT_ANSWER), "\n".join(frames)
    last_thought = max(i for i, (thought, _) in enumerate(pieces) if thought)
    first_text = min(i for i, (_, text) in enumerate(pieces) if text)
    assert last_thought < first_text, "\n".join(frames)
