"""The benchmarks run: `python -m bench --quick` prints its tables, and its fake upstream is right."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import bench.__main__ as runner
from bench.frames import fixture_pieces, responses_batches
from bench.report import ratio
from bench.upstream import answer_frames, responses_frames, token_text
from bench.upstream import fake as upstream_fake
from formatters.events import (
    StepEndEvent,
    StepStartEvent,
    TextDeltaEvent,
    TurnCompleteEvent,
    UsageEvent,
)
from service.upstream.agents_normalizer import normalize_chunk
from service.upstream.responses_normalizer import ResponsesNormalizer
from service.upstream.sse import SSEDecoder
from tests.paths import OGX_FIXTURES, REPO


def test_the_fake_upstreams_answer_is_a_real_agents_turn_of_n_tokens() -> None:
    decoder = SSEDecoder()
    events = []
    for index, sse in enumerate(sse for frame in answer_frames(5) for sse in decoder.feed(frame)):
        events.extend(normalize_chunk(index, json.loads(sse.data)))
    texts = [token_text(i) for i in range(5)]
    assert texts[:2] == ["alpha0 ", "bravo1 "]
    assert [type(e) for e in events] == [
        StepStartEvent,
        *[TextDeltaEvent] * 5,
        StepEndEvent,
        TurnCompleteEvent,
    ]
    assert [e.text for e in events if isinstance(e, TextDeltaEvent)] == texts
    assert events[-1] == TurnCompleteEvent(chunk=7, text="".join(texts))


def test_the_fake_upstreams_responses_answer_is_a_real_responses_turn_of_n_tokens() -> None:
    decoder, normalizer = SSEDecoder(), ResponsesNormalizer()
    frames = responses_frames(5)
    raws = [json.loads(sse.data) for frame in frames for sse in decoder.feed(frame)]
    events = [e for index, raw in enumerate(raws) for e in normalizer.normalize(index, raw)]
    texts = [token_text(i) for i in range(5)]
    assert [type(e) for e in events] == [
        StepStartEvent,
        *[TextDeltaEvent] * 5,
        StepEndEvent,
        UsageEvent,
        TurnCompleteEvent,
    ]
    assert [e.text for e in events if isinstance(e, TextDeltaEvent)] == texts
    assert events[-1] == TurnCompleteEvent(chunk=len(raws) - 1, text="".join(texts))
    assert [raw["sequence_number"] for raw in raws] == list(range(len(raws)))


def test_every_benchmark_the_runner_names_is_a_module_with_run() -> None:
    for name in runner.BENCHMARKS:
        assert callable(importlib.import_module(f"bench.{name}").run), name


@pytest.mark.oracle  # the frames benchmark runs lightspeed-stack in .venv-oracle
def test_quick_run_prints_the_headline_and_tables(tmp_path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--only",
            "frames",
            "ttfb",
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "`python -m bench --quick --only frames ttfb`" in out
    assert "| 1 frames | chunks/s per core, ours lightspeed-0.1 ÷ lightspeed-stack" in out
    assert "| 3 TTFB | responses: added by the service at p99 (p50), 1 concurrent |" in out
    assert "| 3 TTFB | agents: added by the service at p99 (p50), 1 concurrent |" in out
    assert "#### Frame building: chunks per CPU second (one core)" in out
    assert "| long (303) |" in out
    assert "differs from lightspeed-stack" not in out  # same bytes for the same chunks
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [r["name"] for r in saved] == ["frames", "ttfb"]
    assert all(r["error"] is None for r in saved)
    assert (tmp_path / "results.md").read_text() in out


def test_a_ratio_against_a_peer_that_measured_zero_is_n_a_not_a_crash() -> None:
    assert ratio(1.5, 0.5) == "3.00x"
    assert ratio(0.2, 0.0) == "n/a"


def test_the_frames_benchmark_reads_responses_bodies_with_the_adapters_own_reader() -> None:
    pieces = fixture_pieces("text", OGX_FIXTURES)
    batches = list(responses_batches(pieces))
    normalizer = ResponsesNormalizer()
    raws = [json.loads(piece.decode().removeprefix("data: ")) for piece in pieces]
    expected = [normalizer.normalize(index, raw) for index, raw in enumerate(raws)]
    assert batches == [batch for batch in expected if batch]
    assert [e.text for b in batches for e in b if isinstance(e, TextDeltaEvent)][:2] == [
        "Hello",
        " from",
    ]


async def test_the_benchmarks_fake_checks_client_versions_on_its_responses_routes_only(
    aiohttp_client,
) -> None:
    agents_client = {"X-LlamaStack-Client-Version": "0.2.16"}  # lightspeed-stack 0.1.3's
    llama_stack = await aiohttp_client(upstream_fake("0.7.3").app())
    created = await llama_stack.post("/v1/agents", json={}, headers=agents_client)
    assert (created.status, await created.json()) == (200, {"agent_id": "agent-1"})
    assert (await llama_stack.get("/v1/models", headers=agents_client)).status == 200
    assert (await llama_stack.get("/v1/version", headers=agents_client)).status == 426
    client = await aiohttp_client(upstream_fake("1.2.5").app())
    refused = await client.get("/v1/version", headers={"X-OGX-Client-Version": "1.5.0"})
    assert refused.status == 426
    assert (
        await client.get("/v1/version", headers={"X-OGX-Client-Version": "1.2.5"})
    ).status == 200
    models = await (await client.get("/v1/models")).json()
    assert models["data"] == [
        {
            "id": "bench/fake-model",
            "object": "model",
            "created": 1795515817,
            "owned_by": "llama_stack",
            "custom_metadata": {"model_type": "llm", "provider_id": "bench"},
            "identifier": "bench/fake-model",
            "provider_resource_id": "bench/fake-model",
            "provider_id": "bench",
            "type": "model",
            "metadata": {},
            "model_type": "llm",
        }
    ]
