#!/usr/bin/env python
"""Frame building in lightspeed-stack 0.1.3: wire bytes -> SSE frame bytes, CPU time per chunk.

Runs INSIDE the oracle venv (`.venv-oracle`, tests/oracle/make_venv.sh), not the project's:

    .venv-oracle/bin/python bench/lightspeed_frames.py < job.json > result.json

Input: `{"fixtures": {name: [piece, ...]}, "repeat": R, "rounds": K, "conversation_id": str}`,
each piece a latin-1 string of the bytes one upstream write carried. For each fixture it runs,
R times per round, what lightspeed-stack does per chunk between the socket and the response body,
with its own code: llama-stack-client 0.2.16's SSE decoder (`client._make_sse_decoder()`),
`sse.json()`, `client._process_response_data(...)` (`construct_type` into
`AgentTurnResponseStreamChunk`), then `stream_build_event` with the handler's id counting, the
start and end frames, and the str -> bytes encoding Starlette does. A second variant (`handler`)
adds what `response_generator` does to every frame besides: `json.loads` of the frame to
accumulate the transcript text. Output: per fixture and variant, the best round's CPU seconds
(`time.process_time`) and the body's SHA-256 (the caller checks it against its own).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def load() -> Any:
    """Import lightspeed-stack 0.1.3's streaming_query with the oracle's stand-in modules."""
    sys.path.insert(0, str(REPO / "tests" / "oracle"))
    import lightspeed_oracle

    return lightspeed_oracle.load_service(False)


def main() -> int:
    job = json.load(sys.stdin)
    streaming_query = load()
    import httpx
    from llama_stack_client import AsyncLlamaStackClient
    from llama_stack_client.types.agents.agent_turn_response_stream_chunk import (
        AgentTurnResponseStreamChunk,
    )

    client = AsyncLlamaStackClient(base_url="http://llama-stack.bench.invalid:8321")
    response = httpx.Response(200, headers={"content-type": "text/event-stream"})
    build = streaming_query.stream_build_event
    start_event = streaming_query.stream_start_event
    end_event = streaming_query.stream_end_event
    conversation_id = job["conversation_id"]

    def run(pieces: list[bytes], handler: bool) -> bytes:
        body = []
        metadata_map: dict[str, Any] = {}
        body.append(start_event(conversation_id).encode("utf-8"))
        chunk_id = 0
        complete = ""
        decoder = client._make_sse_decoder()
        for sse in decoder.iter_bytes(iter(pieces)):
            chunk = client._process_response_data(
                data=sse.json(), cast_to=AgentTurnResponseStreamChunk, response=response
            )
            for event in build(chunk, chunk_id, metadata_map):
                if handler:
                    complete += json.loads(event.replace("data: ", ""))["data"]["token"]
                chunk_id += 1
                body.append(event.encode("utf-8"))
        body.append(end_event(metadata_map).encode("utf-8"))
        return b"".join(body)

    results: dict[str, Any] = {}
    for name, texts in job["fixtures"].items():
        pieces = [text.encode("latin-1") for text in texts]
        for variant in ("client+stream_build_event", "handler"):
            handler = variant == "handler"
            best = float("inf")
            for _ in range(job["rounds"]):
                started = time.process_time()
                for _ in range(job["repeat"]):
                    body = run(pieces, handler)
                best = min(best, time.process_time() - started)
            results[f"{name}/{variant}"] = {
                "cpu_seconds": best,
                "repeat": job["repeat"],
                "sha256": hashlib.sha256(body).hexdigest(),
                "bytes": len(body),
            }
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
