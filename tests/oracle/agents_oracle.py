#!/usr/bin/env python
"""Differential-test oracle: the exact SSE bytes lightspeed-stack 0.2.0 or 0.3.0 sends.

``--release 0.2.0|0.3.0``; runs INSIDE the venv made by ``make_release_venv.sh <release>`` (lightspeed-stack from PyPI, its
llama-stack-client, versions pinned to that release's own uv.lock). Same input, output, exit
statuses and options as ``lightspeed_oracle.py`` (the 0.1.3 oracle, whose fake llama-stack and
ASGI capture it reuses); see tests/oracle/README.md.

The real, unmodified code runs: ``app.endpoints.streaming_query.streaming_query_endpoint_handler``
(its ``response_generator``, ``stream_build_event``, ``retrieve_response``), ``utils.endpoints.
get_agent``, llama-stack-client's ``AsyncAgent``/``AsyncStream``, the conversation bookkeeping in
its SQLite database (a temporary file), Starlette's ``StreamingResponse``. Stood in for: the
top-level modules the wheel lacks -- ``constants`` (the release's file, verbatim, in
``standins/<release>/``), ``version``, ``log``, ``configuration`` (the release's ``AppConfig``
properties without YAML loading), ``client`` (0.1.3's holders, the same in 0.2.0 and 0.3.0) -- and the llama-stack
server (an ``httpx.MockTransport``). 0.2.0 names the conversation after the *agent* (0.1.3: after
the session), so the fake server hands out the conversation id as the agent id.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

import lightspeed_oracle as base  # the 0.1.3 oracle, next to this file

RELEASES = ("0.2.0", "0.3.0")
SESSION_ID = "5e5510a0-0000-4000-8000-000000000002"
STANDINS = Path(__file__).with_name("standins")
END_FRAME = b'data: {"event": "end", '

# What each release's AppConfig has beyond 0.1.3's and `database_configuration` (0.2.0), and the configuration it needs for it.
_RELEASE_PROPERTIES = {
    "0.3.0": {
        "authorization_configuration": "authorization",
        "conversation_cache_configuration": "conversation_cache",
    },
}
_RELEASE_CONFIG: dict[str, dict[str, Any]] = {"0.3.0": {"authorization": {}}}


class FakeLlamaStack(base.FakeLlamaStack):  # type: ignore[misc]  # the oracle venv's class
    """The 0.1.3 oracle's fake server, with the conversation id handed out as the agent id."""

    def __init__(self, doc: dict[str, Any]) -> None:
        super().__init__(doc)
        self.agent_id = self.conversation_id
        self.session_id = SESSION_ID


def install_stub_modules(release: str) -> None:
    """Put stand-ins for the modules the wheel lacks into sys.modules."""
    for name in ("constants", "version", "log", "configuration", "client"):
        if name in sys.modules:
            raise RuntimeError(f"module {name!r} already imported; refusing to shadow it")
    base._module("constants", (STANDINS / release / "constants.py").read_text())  # pylint: disable=protected-access
    base._module("version", f'"""Service version."""\n__version__ = "{release}"\n')  # pylint: disable=protected-access
    base._module("log", base._LOG_SRC)  # pylint: disable=protected-access
    # utils/common.py imports the library client (library mode only, never on this path).
    try:
        import llama_stack  # noqa: F401
    except ImportError:
        stub = types.ModuleType("llama_stack")
        stub.AsyncLlamaStackAsLibraryClient = type("AsyncLlamaStackAsLibraryClient", (), {})  # type: ignore[attr-defined]
        sys.modules["llama_stack"] = stub
    configuration = base._module("configuration", base._CONFIGURATION_SRC)  # pylint: disable=protected-access
    configuration.AppConfig.PROPERTIES = {
        **base.CONFIG_PROPERTIES,
        "database_configuration": "database",
        **_RELEASE_PROPERTIES.get(release, {}),
    }
    base._module("client", base._CLIENT_SRC)  # the same holders as 0.1.3's  # pylint: disable=protected-access


def load_service(release: str, verbose: bool, workdir: str) -> Any:
    """Import the release's streaming_query module with the stand-ins and a fresh database."""
    base._setup_logging(verbose)  # pylint: disable=protected-access
    install_stub_modules(release)
    import configuration  # the stand-in

    configuration.configuration.init_from_dict(
        {
            "name": "lightspeed-oracle",
            "service": {},
            "llama_stack": {"url": base.LLAMA_STACK_URL, "api_key": None},
            "user_data_collection": {"transcripts_enabled": False, "feedback_enabled": False},
            "authentication": {"module": "noop"},
            "mcp_servers": [],
            "database": {"sqlite": {"db_path": f"{workdir}/lightspeed-stack.db"}},
            **_RELEASE_CONFIG.get(release, {}),
        }
    )
    from app import database
    from app.endpoints import streaming_query  # the real module from the wheel

    database.initialize_database()
    database.create_tables()
    base._setup_logging(verbose)  # pylint: disable=protected-access
    return streaming_query


async def run_one(
    streaming_query: Any, release: str, doc: dict[str, Any], trace: bool
) -> tuple[bytes, int, list[str]]:
    """Run one streaming query through the real handler: (body, status, messages)."""
    import client as client_mod  # the stand-in
    import httpx
    from fastapi import HTTPException
    from llama_stack_client import AsyncLlamaStackClient
    from models.requests import QueryRequest
    from starlette.requests import Request

    messages: list[str] = []
    fake = FakeLlamaStack(doc)
    http_client = httpx.AsyncClient(
        transport=httpx.MockTransport(fake.handler), base_url=base.LLAMA_STACK_URL
    )
    client = AsyncLlamaStackClient(
        base_url=base.LLAMA_STACK_URL, http_client=http_client, max_retries=0
    )
    client_mod.AsyncLlamaStackClientHolder().set_client(client)
    body = bytearray()
    status = 0
    head: dict[str, Any] = {}
    try:
        query_request = QueryRequest(query=doc.get("query", base.DEFAULT_QUERY))
        try:
            user: tuple[Any, ...] = ("oracle-user-id", "oracle-user", "")
            if release != "0.2.0":  # 0.3.0's AuthTuple gains skip_userid_check
                user = ("oracle-user-id", "oracle-user", True, "")
            request = Request({"type": "http", "method": "POST", "headers": []})
            response = await streaming_query.streaming_query_endpoint_handler(
                request, query_request=query_request, auth=user, mcp_headers={}
            )
        except HTTPException as e:
            messages.append(f"request failed before streaming: HTTP {e.status_code} {e.detail!r}")
            return b"", 2, messages

        async def receive() -> dict[str, Any]:
            await asyncio.Event().wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                head.update(message)
            elif message["type"] == "http.response.body":
                body.extend(bytes(message.get("body", b"")))

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "method": "POST",
        }
        try:
            await response(scope, receive, send)
        except Exception as e:  # any exception aborts the real response
            if body.endswith(b"\n\n") and body.rsplit(b"\n\n", 2)[-2].startswith(END_FRAME):
                # 0.3.0 names the conversation (a non-streamed turn) after its `end` frame
                messages.append(f"after the end frame: {type(e).__name__}: {e!r}")
            else:
                status = 3
                messages.append(
                    f"stream aborted mid-body by {type(e).__name__}: {e!r} "
                    "(real server: no end frame, chunked body not terminated)"
                )
    finally:
        await http_client.aclose()
    if trace:
        messages.append(f"response head status={head.get('status')} headers={head.get('headers')}")
        messages.extend(f"request {r}" for r in fake.requests)
    messages.extend(f"note: {n}" for n in fake.notes)
    return bytes(body), status, messages


async def run(release: str, docs: list[Any], batch: bool, verbose: bool, trace: bool) -> int:
    """Run every document through one loaded service; print bodies (or the batch's JSON list)."""
    with tempfile.TemporaryDirectory(prefix="lightspeed-oracle-") as workdir:
        streaming_query = load_service(release, verbose, workdir)
        results: list[dict[str, Any]] = []
        for doc in docs:
            try:
                base.validate_doc(doc)
            except ValueError as e:
                results.append({"body": "", "status": 1, "messages": [f"bad input: {e}"]})
                continue
            body, status, messages = await run_one(streaming_query, release, doc, trace)
            results.append({"body": body.decode("ascii"), "status": status, "messages": messages})
    if batch:
        sys.stdout.write(json.dumps(results))
        return 0
    (result,) = results
    sys.stdout.write(result["body"])
    for m in result["messages"]:
        print(f"agents_oracle: {m}", file=sys.stderr)
    return int(result["status"])


def main() -> int:
    """Parse the options, read stdin, run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--release", choices=RELEASES, required=True)
    parser.add_argument("--batch", action="store_true", help="stdin is a JSON list of documents")
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    try:
        doc = json.loads(sys.stdin.buffer.read().decode("utf-8"))
        if args.batch and not isinstance(doc, list):
            raise ValueError("--batch input must be a JSON list of documents")
    except ValueError as e:
        print(f"agents_oracle: bad input: {e}", file=sys.stderr)
        return 1
    docs = doc if args.batch else [doc]
    return asyncio.run(run(args.release, docs, args.batch, args.verbose, args.trace))


if __name__ == "__main__":
    sys.exit(main())
