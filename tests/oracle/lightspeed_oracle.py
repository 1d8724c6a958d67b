#!/usr/bin/env python
"""Differential-test oracle: the exact SSE bytes lightspeed-stack 0.1.3 sends.

Runs INSIDE the venv made by ``make_venv.sh`` (lightspeed-stack==0.1.3 from
PyPI, llama-stack-client==0.2.16, versions pinned to lightspeed-stack 0.1.3's
own uv.lock).

Input (stdin, JSON)::

    {
      "conversation_id": "c0ffee00-...",          # required
      "chunks": [ {<one `data:` line of an Agents turn stream>}, ... ],
      # optional:
      "resume_chunks": [[...], ...],   # streams served to turn/{id}/resume calls
      "model": "fake-model",           # model identifier served by GET /v1/models
      "provider": "vllm",
      "query": "What is OpenShift?"
    }

A chunk may also be a JSON *string*: it is then sent verbatim as the text
after ``data: `` (to test malformed lines).

Output (stdout): the raw HTTP body bytes of lightspeed-stack 0.1.3's
``POST /v1/streaming_query`` response, byte exact.

Nothing is re-implemented. The real, unmodified code runs end to end:

* ``app.endpoints.streaming_query.streaming_query_endpoint_handler`` (with its
  nested ``response_generator``: start frame, id counting, ``stream_build_event``,
  end frame), ``retrieve_response``, ``get_agent``;
* llama-stack-client 0.2.16's ``AsyncAgent`` (``_create_turn_streaming``: stops
  after an error chunk, resumes turns that end with tool calls) and its
  ``AsyncStream`` / SSE decoder / ``_process_response_data`` ->
  ``construct_type(type_=AgentTurnResponseStreamChunk, value=...)``;
* Starlette's ``StreamingResponse`` ASGI code, whose ``send`` messages are
  captured (so str -> utf-8 encoding is Starlette's own).

What is stood in for:

* the top-level modules the wheel lacks (``constants``, ``version``, ``log``,
  ``configuration``, ``client``) -- see ``install_stub_modules``; ``constants``
  holds the 0.1.3 values verbatim, ``configuration``/``client`` are the 0.1.3
  classes minus YAML loading / library-client mode;
* llama-stack's HTTP server: an ``httpx.MockTransport`` answers the client's
  requests (models, shields, vector-dbs, agent and session creation) and serves
  ``chunks`` as ``data: <json>\\n\\n`` for the turn request. No network is used.

Exit status:
  0  stream completed (the body ends with the ``end`` frame);
  3  the handler raised mid-stream: stdout holds exactly the bytes sent before
     the abort (real server: response aborted, no ``end`` frame, chunked body
     not terminated); the exception is described on stderr;
  2  the request failed before streaming (HTTPException etc.); stderr says why,
     stdout is empty;
  1  bad input / harness error.

Options: ``--mode agent`` (default, as lightspeed does it: chunks go through
AsyncAgent) or ``--mode stream`` (the handler iterates the client's raw
AsyncStream, bypassing AsyncAgent's error-stop and tool-resume logic);
``--trace`` prints the HTTP requests the client made and the response head on
stderr; ``--verbose`` shows the service's logs on stderr; ``--batch`` runs many
documents in one process (stdin: JSON list of documents; stdout: JSON list of
``{"body": <SSE text>, "status": <exit status above>, "messages": [...]}``).
"""

# pylint: disable=import-outside-toplevel,too-many-locals

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import types
from typing import Any

DEFAULT_MODEL = "fake-model"
DEFAULT_PROVIDER = "vllm"
DEFAULT_QUERY = "What is OpenShift?"
LLAMA_STACK_URL = "http://llama-stack.oracle.invalid:8321"
AGENT_ID = "00000000-0000-4000-8000-0000000a9e17"


# --------------------------------------------------------------------------
# Stand-ins for the top-level modules missing from the lightspeed-stack wheel
# --------------------------------------------------------------------------
_CONSTANTS_SRC = '''
"""Constants used in business logic (verbatim values of lightspeed-stack 0.1.3 src/constants.py)."""

UNABLE_TO_PROCESS_RESPONSE = "Unable to process this request"
ATTACHMENT_TYPES = frozenset(
    {"alert", "api object", "configuration", "error message", "event", "log", "stack trace"}
)
ATTACHMENT_CONTENT_TYPES = frozenset(
    {"text/plain", "application/json", "application/yaml", "application/xml"}
)
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant"
DEFAULT_VIRTUAL_PATH = "/ls-access"
DEFAULT_USER_NAME = "lightspeed-user"
DEFAULT_USER_UID = "00000000-0000-0000-0000-000"
NO_USER_TOKEN = ""
AUTH_MOD_K8S = "k8s"
AUTH_MOD_NOOP = "noop"
AUTH_MOD_NOOP_WITH_TOKEN = "noop-with-token"
AUTH_MOD_JWK_TOKEN = "jwk-token"
SUPPORTED_AUTHENTICATION_MODULES = frozenset(
    {AUTH_MOD_K8S, AUTH_MOD_NOOP, AUTH_MOD_NOOP_WITH_TOKEN, AUTH_MOD_JWK_TOKEN}
)
DEFAULT_AUTHENTICATION_MODULE = AUTH_MOD_NOOP
DEFAULT_JWT_UID_CLAIM = "user_id"
DEFAULT_JWT_USER_NAME_CLAIM = "username"
DATA_COLLECTOR_COLLECTION_INTERVAL = 7200
DATA_COLLECTOR_CONNECTION_TIMEOUT = 30
DATA_COLLECTOR_RETRY_INTERVAL = 300
'''

_VERSION_SRC = '''
"""Service version (lightspeed-stack 0.1.3 src/version.py)."""
__version__ = "0.1.3"
'''

# 0.1.3's log.get_logger installs a rich.RichHandler writing to the console
# (stdout). Here it only names the logger: records go to the root logger,
# which the harness points at stderr, so stdout carries nothing but the body.
_LOG_SRC = '''
"""Log utilities (stand-in for lightspeed-stack 0.1.3 src/log.py)."""
import logging


def get_logger(name: str) -> logging.Logger:
    """Retrieve logger with the provided name."""
    return logging.getLogger(name)
'''

# 0.1.3's AppConfig properties and the Configuration field each returns (later releases add
# their own).
CONFIG_PROPERTIES = {
    "service_configuration": "service",
    "llama_stack_configuration": "llama_stack",
    "user_data_collection_configuration": "user_data_collection",
    "mcp_servers": "mcp_servers",
    "authentication_configuration": "authentication",
    "customization": "customization",
    "inference": "inference",
}

# The AppConfig of lightspeed-stack's src/configuration.py, YAML loading left out: its
# properties are PROPERTIES (set by the caller), each returning one Configuration field.
_CONFIGURATION_SRC = '''
"""Configuration holder (stand-in for lightspeed-stack's src/configuration.py, no YAML loading)."""
from typing import Any, Optional

from models.config import Configuration


class LogicError(Exception):
    """Error in application logic (0.3.0 and later raise it instead of asserting)."""


class AppConfig:
    """Singleton holding the configuration; each property returns one Configuration field."""

    _instance = None
    PROPERTIES: dict[str, str] = {}

    def __new__(cls, *args: Any, **kwargs: Any) -> "AppConfig":
        if not isinstance(cls._instance, cls):
            cls._instance = super().__new__(cls, *args, **kwargs)
        return cls._instance

    def __init__(self) -> None:
        self._configuration: Optional[Configuration] = None

    def init_from_dict(self, config_dict: dict[Any, Any]) -> None:
        self._configuration = Configuration(**config_dict)

    @property
    def configuration(self) -> Configuration:
        assert self._configuration is not None, "logic error: configuration is not loaded"
        return self._configuration

    @property
    def conversation_cache(self) -> Any:
        """The release's conversation cache, made by its own CacheFactory (0.3.0 and later)."""
        from cache.cache_factory import CacheFactory

        return CacheFactory.conversation_cache(self.configuration.conversation_cache)

    def __getattr__(self, name: str) -> Any:
        field = type(self).PROPERTIES.get(name)
        if field is None:
            raise AttributeError(name)
        return getattr(self.configuration, field)


configuration: AppConfig = AppConfig()
'''

# Same holders as 0.1.3's src/client.py (service mode only); the harness
# installs its mock-transport client with set_client().
_CLIENT_SRC = '''
"""LLama stack client retrieval (stand-in for lightspeed-stack 0.1.3 src/client.py)."""
from typing import Optional

from llama_stack_client import AsyncLlamaStackClient, LlamaStackClient
from utils.types import Singleton


class LlamaStackClientHolder(metaclass=Singleton):
    """Container for an initialised LlamaStackClient."""

    _lsc: Optional[LlamaStackClient] = None

    def set_client(self, client: LlamaStackClient) -> None:
        self._lsc = client

    def get_client(self) -> LlamaStackClient:
        if not self._lsc:
            raise RuntimeError(
                "LlamaStackClient has not been initialised. Ensure 'load(..)' has been called."
            )
        return self._lsc


class AsyncLlamaStackClientHolder(metaclass=Singleton):
    """Container for an initialised AsyncLlamaStackClient."""

    _lsc: Optional[AsyncLlamaStackClient] = None

    def set_client(self, client: AsyncLlamaStackClient) -> None:
        self._lsc = client

    def get_client(self) -> AsyncLlamaStackClient:
        if not self._lsc:
            raise RuntimeError(
                "AsyncLlamaStackClient has not been initialised. Ensure 'load(..)' has been called."
            )
        return self._lsc
'''


def _module(name: str, source: str) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__file__ = f"<lightspeed_oracle stub {name}>"
    sys.modules[name] = mod
    exec(compile(source, mod.__file__, "exec"), mod.__dict__)  # pylint: disable=exec-used
    return mod


def install_stub_modules() -> None:
    """Put stand-ins for the modules the wheel lacks into sys.modules."""
    for name in ("constants", "version", "log", "configuration", "client"):
        if name in sys.modules:
            raise RuntimeError(f"module {name!r} already imported; refusing to shadow it")
    _module("constants", _CONSTANTS_SRC)
    _module("version", _VERSION_SRC)
    _module("log", _LOG_SRC)
    # utils/common.py imports llama_stack.distribution.library_client (only for
    # the library-client mode, never on this path). make_venv.sh installs the
    # real llama-stack 0.2.16; stand in only if it is absent (a --no-deps venv).
    try:
        import llama_stack.distribution.library_client  # noqa: F401
    except ImportError:
        for pkg in ("llama_stack", "llama_stack.distribution"):
            sys.modules.setdefault(pkg, types.ModuleType(pkg))
        lib = types.ModuleType("llama_stack.distribution.library_client")

        class AsyncLlamaStackAsLibraryClient:  # pylint: disable=too-few-public-methods
            """Placeholder: library-client mode is not used by the oracle."""

        class LlamaStackAsLibraryClient:  # pylint: disable=too-few-public-methods
            """Placeholder: library-client mode is not used by the oracle."""

        lib.AsyncLlamaStackAsLibraryClient = AsyncLlamaStackAsLibraryClient  # type: ignore[attr-defined]
        lib.LlamaStackAsLibraryClient = LlamaStackAsLibraryClient  # type: ignore[attr-defined]
        sys.modules["llama_stack.distribution.library_client"] = lib
    _module("configuration", _CONFIGURATION_SRC).AppConfig.PROPERTIES = dict(CONFIG_PROPERTIES)
    _module("client", _CLIENT_SRC)


# --------------------------------------------------------------------------
# Fake llama-stack server (httpx MockTransport)
# --------------------------------------------------------------------------
def sse_body(chunks: list[Any]) -> bytes:
    """Serialize chunks the way llama-stack does on the wire: `data: <json>\\n\\n`."""
    out = []
    for c in chunks:
        text = c if isinstance(c, str) else json.dumps(c)
        out.append(f"data: {text}\n\n")
    return "".join(out).encode("utf-8")


class FakeLlamaStack:  # pylint: disable=too-few-public-methods
    """Answers the requests lightspeed-stack 0.1.3 makes for one streaming query."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.conversation_id = doc["conversation_id"]
        # lightspeed-stack 0.1.3 names the conversation after the session; 0.2 and later after
        # the agent (subclasses swap these two)
        self.agent_id = AGENT_ID
        self.session_id = self.conversation_id
        self.model = doc.get("model", DEFAULT_MODEL)
        self.provider = doc.get("provider", DEFAULT_PROVIDER)
        self.turn_chunks = doc["chunks"]
        self.resume_chunks = list(doc.get("resume_chunks") or [])
        self.requests: list[str] = []
        self.notes: list[str] = []

    def handler(self, request: Any) -> Any:
        import httpx

        path = request.url.path
        method = request.method
        self.requests.append(f"{method} {path}")
        sse_headers = {"content-type": "text/event-stream; charset=utf-8"}

        def ok(payload: Any) -> Any:
            return httpx.Response(200, json=payload)

        if method == "GET" and path == "/v1/models":
            return ok(
                {
                    "data": [
                        {
                            "identifier": self.model,
                            "provider_resource_id": self.model,
                            "provider_id": self.provider,
                            "type": "model",
                            "metadata": {},
                            "model_type": "llm",
                        }
                    ]
                }
            )
        if method == "GET" and path in ("/v1/shields", "/v1/vector-dbs"):
            return ok({"data": []})
        if method == "POST" and path == "/v1/agents":
            return ok({"agent_id": self.agent_id})
        if method == "POST" and path == f"/v1/agents/{self.agent_id}/session":
            return ok({"session_id": self.session_id})
        turn_prefix = f"/v1/agents/{self.agent_id}/session/{self.session_id}/turn"
        if method == "POST" and path == turn_prefix:
            return httpx.Response(200, headers=sse_headers, content=sse_body(self.turn_chunks))
        if method == "POST" and path.startswith(turn_prefix + "/") and path.endswith("/resume"):
            body = request.content.decode("utf-8", "replace")
            if self.resume_chunks:
                chunks = self.resume_chunks.pop(0)
                self.notes.append(
                    f"served resume_chunks ({len(chunks)} chunks) to {path} body={body}"
                )
            else:
                chunks = []
                self.notes.append(
                    f"AsyncAgent resumed the turn ({path}, body={body}) and no resume_chunks "
                    "were left: served an empty stream"
                )
            return httpx.Response(200, headers=sse_headers, content=sse_body(chunks))
        self.notes.append(f"unexpected request {method} {path}: answered 404")
        return httpx.Response(404, json={"detail": "not served by lightspeed_oracle"})


# --------------------------------------------------------------------------
# Running the real handler
# --------------------------------------------------------------------------
def load_service(verbose: bool) -> Any:
    """Import lightspeed-stack 0.1.3's streaming_query module with the stand-ins in place."""
    _setup_logging(verbose)
    install_stub_modules()

    import configuration  # the stand-in

    configuration.configuration.init_from_dict(
        {
            "name": "lightspeed-oracle",
            "service": {},
            "llama_stack": {"url": LLAMA_STACK_URL, "api_key": None},
            "user_data_collection": {"transcripts_enabled": False, "feedback_enabled": False},
            "authentication": {"module": "noop"},
            "mcp_servers": [],
        }
    )

    from app.endpoints import streaming_query  # the real module from the wheel

    # Importing llama_stack (full venv) runs llama_stack.log.setup_logging(), which points
    # the root logger at a rich console on *stdout*. Take logging back to stderr.
    _setup_logging(verbose)
    return streaming_query


def _setup_logging(verbose: bool) -> None:
    level = logging.DEBUG if verbose else logging.CRITICAL + 1
    logging.basicConfig(
        stream=sys.stderr, level=level, format="%(levelname)s %(name)s: %(message)s", force=True
    )
    for lg in list(logging.root.manager.loggerDict.values()):
        if isinstance(lg, logging.Logger):
            lg.setLevel(logging.NOTSET)
            if not lg.propagate:
                lg.handlers = []
                lg.propagate = True


def validate_doc(doc: Any) -> None:
    """Raise ValueError unless doc is {"conversation_id": str, "chunks": list, ...}."""
    if not isinstance(doc, dict) or not isinstance(doc.get("conversation_id"), str):
        raise ValueError('input must be {"conversation_id": "<str>", "chunks": [...]}')
    if not isinstance(doc.get("chunks"), list):
        raise ValueError('"chunks" must be a list')
    resume = doc.get("resume_chunks")
    if resume is not None and not (
        isinstance(resume, list) and all(isinstance(r, list) for r in resume)
    ):
        raise ValueError('"resume_chunks" must be a list of lists')


async def run_one(
    streaming_query: Any, doc: dict[str, Any], mode: str, trace: bool
) -> tuple[bytes, int, list[str]]:
    """Run one streaming query through the real handler.

    Returns (body bytes, status 0/2/3 as documented above, diagnostic messages).
    """
    import client as client_mod  # the stand-in
    import httpx
    from fastapi import HTTPException
    from llama_stack_client import AsyncLlamaStackClient
    from models.requests import QueryRequest

    messages: list[str] = []
    fake = FakeLlamaStack(doc)
    http_client = httpx.AsyncClient(
        transport=httpx.MockTransport(fake.handler), base_url=LLAMA_STACK_URL
    )
    client = AsyncLlamaStackClient(base_url=LLAMA_STACK_URL, http_client=http_client, max_retries=0)
    client_mod.AsyncLlamaStackClientHolder().set_client(client)

    real_retrieve = streaming_query.retrieve_response
    if mode == "stream":
        # Bypass AsyncAgent: the handler iterates the client's AsyncStream directly.
        async def retrieve_response_raw(
            client: Any, model_id: str, query_request: Any, token: str, mcp_headers: Any = None
        ) -> tuple[Any, str]:
            agent_turns, conversation_id = await real_retrieve(
                client, model_id, query_request, token, mcp_headers=mcp_headers
            )
            await agent_turns.aclose()  # never started: no turn request was sent
            stream = await client.agents.turn.create(
                agent_id=AGENT_ID,
                session_id=conversation_id,
                messages=[{"role": "user", "content": query_request.query}],
                stream=True,
            )
            return stream, conversation_id

        streaming_query.retrieve_response = retrieve_response_raw

    body = bytearray()
    status = 0
    head: dict[str, Any] = {}
    ended = False
    try:
        query_request = QueryRequest(query=doc.get("query", DEFAULT_QUERY))
        try:
            response = await streaming_query.streaming_query_endpoint_handler(
                None, query_request, auth=("oracle-user-id", "oracle-user", ""), mcp_headers={}
            )
        except HTTPException as e:
            messages.append(f"request failed before streaming: HTTP {e.status_code} {e.detail!r}")
            return b"", 2, messages

        async def receive() -> dict[str, Any]:
            await asyncio.Event().wait()  # never disconnects (unused with ASGI spec 2.4)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal ended
            if message["type"] == "http.response.start":
                head.update(message)
            elif message["type"] == "http.response.body":
                body.extend(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    ended = True

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "method": "POST",
        }
        try:
            await response(scope, receive, send)
        except Exception as e:  # any exception aborts the real response
            status = 3
            messages.append(
                f"stream aborted mid-body by {type(e).__name__}: {e!r} "
                "(real server: no end frame, chunked body not terminated)"
            )
    finally:
        streaming_query.retrieve_response = real_retrieve
        await http_client.aclose()
    if trace:
        messages.append(f"response head status={head.get('status')} headers={head.get('headers')}")
        messages.append(f"body terminated cleanly: {ended}")
        messages.extend(f"request {r}" for r in fake.requests)
    messages.extend(f"note: {n}" for n in fake.notes)
    return bytes(body), status, messages


async def run_single(doc: dict[str, Any], mode: str, verbose: bool, trace: bool) -> int:
    streaming_query = load_service(verbose)
    body, status, messages = await run_one(streaming_query, doc, mode, trace)
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()
    for m in messages:
        print(f"lightspeed_oracle: {m}", file=sys.stderr)
    return status


async def run_batch(docs: list[Any], mode: str, verbose: bool, trace: bool) -> int:
    streaming_query = load_service(verbose)
    results = []
    for doc in docs:
        try:
            validate_doc(doc)
        except ValueError as e:
            results.append({"body": "", "status": 1, "messages": [f"bad input: {e}"]})
            continue
        body, status, messages = await run_one(streaming_query, doc, mode, trace)
        # Every frame is json.dumps(ensure_ascii=True) output: the body is pure ASCII.
        results.append({"body": body.decode("ascii"), "status": status, "messages": messages})
    sys.stdout.write(json.dumps(results))
    sys.stdout.flush()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--mode", choices=("agent", "stream"), default="agent")
    parser.add_argument(
        "--batch",
        action="store_true",
        help="stdin is a JSON list of input documents; stdout is a JSON list of "
        '{"body": <SSE text>, "status": <exit status>, "messages": [...]} (one process)',
    )
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    try:
        doc = json.loads(sys.stdin.buffer.read().decode("utf-8"))
        if args.batch:
            if not isinstance(doc, list):
                raise ValueError("--batch input must be a JSON list of documents")
        else:
            validate_doc(doc)
    except ValueError as e:
        print(f"lightspeed_oracle: bad input: {e}", file=sys.stderr)
        return 1
    if args.batch:
        return asyncio.run(run_batch(doc, args.mode, args.verbose, args.trace))
    return asyncio.run(run_single(doc, args.mode, args.verbose, args.trace))


if __name__ == "__main__":
    sys.exit(main())
