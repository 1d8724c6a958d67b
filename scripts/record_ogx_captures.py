#!/usr/bin/env python
"""Record OGX 1.5 Responses captures: a real OGX 1.5 server, driven by the e2e tier's fake model.

    .venv/bin/python scripts/record_ogx_captures.py [OUT_DIR [NAME ...]]   # tests/fixtures/ogx-1.5
    .venv/bin/python scripts/record_ogx_captures.py tests/fixtures/ogx-1.5 approvals   # just those

It starts what `make e2e` starts for OGX 1.5.0 (tests/e2e/conftest.py's set-up: the scripted
fake model, the MCP server, `ogx run` from the cached `.venv-ogx-1.5.0` built by
scripts/ogx-env.sh, a vector store holding the e2e documents), sends one `POST /v1/responses`
per capture and writes each response body exactly as received (`NAME.sse`), with
`manifest.json` (server, each request and its events in order). `reasoning` comes from a second
OGX whose inference is remote::vllm, which passes the model's reasoning on (remote::openai drops
it: tests/e2e/reasoning_stack.py). NAMEs record only those captures, into the existing manifest.
`approvals` (a NAME) is three legs of turns on OGX conversations whose `mcp` tool has
`require_approval: always`: the request, its continuation approved (input: a copy of the request
item and an `mcp_approval_response`), and, on a second conversation, one denied.
Bounded: every request times out after 60 s; every process it started is stopped at the end.
"""

from __future__ import annotations

import http.client
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.conftest import _start_stack  # noqa: E402  (the e2e tier's own set-up)
from tests.e2e.processes import Server, read_announced_port, request_json, spawn  # noqa: E402
from tests.e2e.reasoning_stack import start_reasoning_stack  # noqa: E402
from tests.e2e.stacks import MCP_LABEL, VERSIONS  # noqa: E402

VERSION = VERSIONS["ogx-1.5.0"]
REASONING = "reasoning"
"""The capture recorded from the remote::vllm server."""


def captures(mcp_url: str, store_id: str) -> dict[str, dict[str, Any]]:
    """Each capture's request body: a text turn, a long one, an MCP tool turn, a file_search turn."""
    model = VERSION.model
    return {
        "text": {"model": model, "input": "SCENARIO:text Say hello.", "stream": True},
        "long": {
            "model": model,
            "input": "SCENARIO:long:300 Tell me a long story.",
            "stream": True,
        },
        "mcp": {
            "model": model,
            "input": "SCENARIO:tool What is the weather in Paris?",
            "stream": True,
            "tools": [
                {
                    "type": "mcp",
                    "server_label": MCP_LABEL,
                    "server_url": mcp_url,
                    "require_approval": "never",
                }
            ],
        },
        "file_search": {
            "model": model,
            "input": "SCENARIO:file_search capital of Fakeland",
            "stream": True,
            "tools": [{"type": "file_search", "vector_store_ids": [store_id]}],
        },
        REASONING: {
            "model": model,
            "input": "SCENARIO:reason Say hello.",
            "stream": True,
            "reasoning": {"effort": "low"},
        },
    }


APPROVALS = "approvals"
"""The NAME of the approval captures: approval_request, approval_approved, approval_denied."""
QUESTION = "SCENARIO:tool What is the weather in Paris?"


def guarded(mcp_url: str, conversation: str, given: str | list[dict[str, Any]]) -> dict[str, Any]:
    """Return a request on `conversation` whose MCP tool needs approval for every call."""
    tool = {
        "type": "mcp",
        "server_label": MCP_LABEL,
        "server_url": mcp_url,
        "require_approval": "always",
    }
    return {
        "model": VERSION.model,
        "input": given,
        "conversation": conversation,
        "stream": True,
        "tools": [tool],
    }


def decided(request_item: dict[str, Any], approve: bool) -> list[dict[str, Any]]:
    """Return a continuation's input: the request item's copy and the decision on it."""
    response: dict[str, Any] = {
        "type": "mcp_approval_response",
        "approval_request_id": request_item["id"],
        "approve": approve,
    }
    if not approve:
        response["reason"] = "Not today."
    return [request_item, response]


def approval_item(raw: bytes) -> dict[str, Any]:
    """Return the `mcp_approval_request` item of a first leg's `output_item.done`."""
    for frame in raw.split(b"\n\n"):
        if frame.strip():
            event = json.loads(frame.decode().removeprefix("data: "))
            item = event.get("item") or {}
            if event.get("type") == "response.output_item.done" and (
                item.get("type") == "mcp_approval_request"
            ):
                return dict(item)
    raise RuntimeError(f"no mcp_approval_request in {raw[:500]!r}")


def post(port: int, body: dict[str, Any]) -> tuple[int, str, bytes]:
    """POST /v1/responses; the status, content type and the whole body as received."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            "POST", "/v1/responses", json.dumps(body), {"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def events(raw: bytes) -> list[str]:
    """The `type` of each `data:` event of a body."""
    return [
        json.loads(frame.decode().removeprefix("data: ")).get("type", "?")
        for frame in raw.split(b"\n\n")
        if frame.strip()
    ]


def main() -> int:
    """Start the servers, record every capture, write the manifest."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "tests" / "fixtures" / "ogx-1.5"
    only = set(sys.argv[2:])
    out.mkdir(parents=True, exist_ok=True)
    started: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="ogx-captures-") as work:
        state = Path(work)
        log = state / "fake-model.log"
        process = spawn(
            [sys.executable, "-m", "tests.e2e.fake_model"], log, cwd=REPO, pipe_stdout=True
        )
        model = Server("fake-model", process, 0, log)
        started.append(model)
        try:
            model.port = read_announced_port(process, log, timeout=30)
            stack = _start_stack(VERSION, model, state / "ogx", started)
            reasoner = start_reasoning_stack(VERSION, model, state / "ogx-vllm", 180)
            started.append(reasoner)
            manifest: dict[str, Any] = {
                "server": VERSION.label,
                "model": "tests/e2e/fake_model.py (SCENARIO: markers)",
                "recorded_by": "scripts/record_ogx_captures.py",
                "files": {},
            }
            if only:
                manifest = json.loads((out / "manifest.json").read_text())

            def record(name: str, body: dict[str, Any], server: Server, keep: bool = True) -> bytes:
                status, content_type, raw = post(server.port, body)
                if status != 200:
                    raise RuntimeError(f"{name}: HTTP {status}: {raw[:500]!r}")
                if keep:
                    (out / f"{name}.sse").write_bytes(raw)
                    manifest["files"][f"{name}.sse"] = {
                        "request": {"method": "POST", "path": "/v1/responses", "json": body},
                        "http_status": status,
                        "content_type": content_type,
                        "events": events(raw),
                    }
                print(f"{name}.sse: {len(raw)} bytes, {len(events(raw))} events", file=sys.stderr)
                return raw

            mcp_url = f"{stack.mcp.url}/mcp"
            for name, body in captures(mcp_url, stack.vector_store_id).items():
                if only and name not in only:
                    continue
                record(name, body, reasoner if name == REASONING else stack.server)
            if not only or APPROVALS in only:
                ogx, conversations = stack.server, f"{stack.url}/v1/conversations"
                conversation = request_json("POST", conversations, {})["id"]
                asked = record("approval_request", guarded(mcp_url, conversation, QUESTION), ogx)
                item = approval_item(asked)
                approved = guarded(mcp_url, conversation, decided(item, True))
                record("approval_approved", approved, ogx)
                conversation = request_json("POST", conversations, {})["id"]
                asked = guarded(mcp_url, conversation, QUESTION)
                item = approval_item(record("denied_request", asked, ogx, keep=False))
                record("approval_denied", guarded(mcp_url, conversation, decided(item, False)), ogx)
            (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        finally:
            for server in reversed(started):
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
