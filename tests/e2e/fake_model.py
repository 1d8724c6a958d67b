"""A scripted OpenAI-compatible model server for the end-to-end tier (SCENARIO: markers).

Run it as `python -m tests.e2e.fake_model [--port N]`; it prints `listening on PORT` once it
accepts connections. llama-stack's `remote::openai` (0.7.3) or `remote::vllm` (0.2.23)
inference provider points at its `/v1`.

The behaviour is picked by a marker in the last user message:

| marker | the model |
|---|---|
| `SCENARIO:text` (or none) | streams TEXT_ANSWER, one word per chunk |
| `SCENARIO:slow:N` | waits N seconds, then answers like `text` |
| `SCENARIO:long:N` | streams N words |
| `SCENARIO:fail` | answers HTTP 500 before streaming |
| `SCENARIO:fail:mid` | streams 4 chunks, then an SSE error event |
| `SCENARIO:fail:drop` | streams 4 chunks, then cuts the connection inside a chunk |
| `SCENARIO:tool` | calls the first offered tool that is not a retrieval (RAG) tool |
| `SCENARIO:file_search QUERY` | calls the retrieval tool (file_search / knowledge_search) |
| `SCENARIO:remember WORD` | answers `I will remember WORD.` |
| `SCENARIO:reason` | streams REASONING as `reasoning_content` deltas, then TEXT_ANSWER |
| `SCENARIO:recall` | finds `SCENARIO:remember WORD` in an earlier message: `The word was WORD.` |
| `SCENARIO:unsafe` | (only matters to guardrails) llama-guard's shield prompt is answered `unsafe\nS1`; `POST /v1/moderations` (OGX's moderation_endpoint) flags category S1 |

A request whose last message is a tool result is answered `The tool returned: RESULT`, where a
long RESULT (a retrieval result) is cut to its sentence sharing most words with the question.
`SCENARIO:tool` calls the tool with the same arguments each time it is asked (each string
argument is `test`), so the continuation of a turn whose call needed approval repeats the call
and OGX matches the approval (by tool name and JSON-equal arguments); `SCENARIO:tool:N` makes
N parallel calls of it in one answer (the Nth with `testN`). A developer or system
message that comes last, after the user's question (a note such as "the user denied the tool"),
is answered `Understood: NOTE` with no tool call.
Llama Guard prompts are answered `safe`, or `unsafe\nS1` when the conversation holds
`SCENARIO:unsafe`; so are OpenAI moderation requests (`POST /v1/moderations`, flagged for S1).
`POST /v1/embeddings` returns small deterministic vectors (hashed words,
so texts sharing words are close).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import math
import re
import sys
import time
from typing import Any

from aiohttp import web

MODEL = "fake-model"
EMBEDDING_MODEL = "fake-embed"
EMBEDDING_DIMENSION = 16
TEXT_ANSWER = "Hello from the fake model. This is a scripted answer."
NOT_REMEMBERED = "I was not told any word to remember."
REASONING = "The user wants a greeting. I will say hello."
"""The reasoning of `SCENARIO:reason`, streamed one word per chunk before its answer."""
FAIL_MESSAGE = "The fake model failed on purpose."
RETRIEVAL_TOOLS = ("file_search", "knowledge_search")
NEVER_CALLED = ("insert_into_memory",)  # the other half of llama-stack 0.2's builtin::rag
DELTA_INTERVAL = 0.01
QUOTE_LIMIT = 300

_MARKER = re.compile(r"SCENARIO:(?P<name>[a-z_]+)(?::(?P<arg>[a-z0-9]+))?\s*")
_REMEMBER = re.compile(r"SCENARIO:remember\s+(?P<word>\S+)")
_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n")


def text_of(content: Any) -> str:
    """Return the text of an OpenAI message content (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        ).strip()
    return ""


def quote(result: str, query: str) -> str:
    """Return a short tool result whole, else its sentence sharing the most words with `query`."""
    if len(result) <= QUOTE_LIMIT:
        return result
    wanted = set(_WORD.findall(query.lower()))
    sentences = [s.strip() for s in _SENTENCE.split(result) if s.strip()]
    best = max(sentences, key=lambda s: len(wanted & set(_WORD.findall(s.lower()))), default="")
    return best[:QUOTE_LIMIT]


def embed(text: str) -> list[float]:
    """Return a unit vector of EMBEDDING_DIMENSION floats: a bag of hashed lower-case words."""
    vector = [0.0] * EMBEDDING_DIMENSION
    for word in _WORD.findall(text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        vector[digest[0] % EMBEDDING_DIMENSION] += 1.0 if digest[1] % 2 else -1.0
    norm = math.sqrt(sum(value * value for value in vector))
    if norm == 0:
        return [1.0] + [0.0] * (EMBEDDING_DIMENSION - 1)
    return [value / norm for value in vector]


class FakeModel:
    """The scripted model: request bodies in, OpenAI-shaped answers out."""

    def __init__(self) -> None:
        self._call_ids = itertools.count(1)
        self.requests: list[dict[str, Any]] = []

    def app(self) -> web.Application:
        """Return the aiohttp application serving the OpenAI routes."""
        app = web.Application()
        app.router.add_get("/v1/models", self.models)
        app.router.add_post("/v1/chat/completions", self.chat_completions)
        app.router.add_post("/v1/embeddings", self.embeddings)
        app.router.add_post("/v1/moderations", self.moderations)
        app.router.add_get("/v1/requests", self.recorded)
        return app

    async def models(self, request: web.Request) -> web.Response:
        """List the chat model and the embedding model."""
        created = int(time.time())
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"id": name, "object": "model", "created": created, "owned_by": "fake"}
                    for name in (MODEL, EMBEDDING_MODEL)
                ],
            }
        )

    async def recorded(self, request: web.Request) -> web.Response:
        """Return the chat completion requests seen so far (for debugging a failed test)."""
        return web.json_response(self.requests)

    async def embeddings(self, request: web.Request) -> web.Response:
        """Embed each input text deterministically."""
        body = await request.json()
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else [str(item) for item in inputs]
        return web.json_response(
            {
                "object": "list",
                "model": body.get("model", EMBEDDING_MODEL),
                "data": [
                    {"object": "embedding", "index": index, "embedding": embed(text)}
                    for index, text in enumerate(texts)
                ],
                "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)},
            }
        )

    async def moderations(self, request: web.Request) -> web.Response:
        """Moderate each input as the OpenAI Moderations API does: flag `SCENARIO:unsafe` as S1."""
        body = await request.json()
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else [str(item) for item in inputs]
        _log(f"moderations {[text[:60] for text in texts]!r}")
        results = [
            {
                "flagged": "SCENARIO:unsafe" in text,
                "categories": {"S1": "SCENARIO:unsafe" in text},
                "category_scores": {"S1": 1.0 if "SCENARIO:unsafe" in text else 0.0},
            }
            for text in texts
        ]
        return web.json_response({"id": "modr-fake", "model": "fake-guard", "results": results})

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        """Answer one chat completion as the scenario marker says."""
        body = await request.json()
        self.requests.append(body)
        messages = body.get("messages", [])
        stream = bool(body.get("stream"))
        last = messages[-1] if messages else {}
        last_text = text_of(last.get("content"))
        _log(f"chat stream={stream} last_role={last.get('role')} last={last_text[:80]!r}")

        if _is_guard_prompt(last_text):
            verdict = "unsafe\nS1" if "SCENARIO:unsafe" in last_text else "safe"
            return await self._answer(request, body, [verdict], stream)
        user_text = next(
            (text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
        )
        marker = _MARKER.search(user_text)
        name = marker.group("name") if marker else "text"
        arg = marker.group("arg") if marker else None
        rest = user_text[marker.end() :] if marker else user_text

        if last.get("role") == "tool":
            answer = f"The tool returned: {quote(last_text, rest)}"
            return await self._answer(request, body, words(answer), stream)
        if _is_trailing_note(messages):
            return await self._answer(request, body, words(f"Understood: {last_text}"), stream)

        if name == "fail" and arg is None:
            return web.json_response(
                {"error": {"message": FAIL_MESSAGE, "type": "server_error", "code": 500}},
                status=500,
            )
        if name == "fail":
            return await self._fail_midway(request, body, drop=arg == "drop")
        if name == "slow":
            await asyncio.sleep(float(arg or 8))
        if name == "long":
            pieces = [f"word{i} " for i in range(int(arg or 300))]
            return await self._answer(request, body, pieces, stream)
        if name in ("tool", "file_search"):
            call = self._tool_call(
                body.get("tools") or [], retrieval=name == "file_search", rest=rest
            )
            if call is not None:
                calls = [call, *self._more_calls(call, int(arg or 1) - 1)]
                return await self._answer(request, body, [], stream, tool_calls=tuple(calls))
        if name == "reason":
            return await self._answer(
                request, body, words(TEXT_ANSWER), stream, reasoning=words(REASONING)
            )
        if name == "remember":
            word = rest.split()[0] if rest.split() else "nothing"
            return await self._answer(request, body, words(f"I will remember {word}."), stream)
        if name == "recall":
            earlier = [text_of(m.get("content")) for m in messages[:-1]]
            found = [m.group("word") for text in earlier for m in _REMEMBER.finditer(text)]
            answer = f"The word was {found[-1]}." if found else NOT_REMEMBERED
            return await self._answer(request, body, words(answer), stream)
        return await self._answer(request, body, words(TEXT_ANSWER), stream)

    def _tool_call(
        self, tools: list[dict[str, Any]], *, retrieval: bool, rest: str
    ) -> dict[str, Any] | None:
        functions = [
            function
            for function in (t.get("function", {}) for t in tools if t.get("type") == "function")
            if function.get("name") not in NEVER_CALLED
        ]
        chosen = next(
            (f for f in functions if (f.get("name") in RETRIEVAL_TOOLS) == retrieval), None
        )
        if chosen is None:
            return None
        properties = (chosen.get("parameters") or {}).get("properties") or {}
        arguments = {
            key: rest.strip() if key == "query" else "test"
            for key, schema in properties.items()
            if (schema or {}).get("type", "string") == "string"
        }
        return {
            "id": f"call_fake_{next(self._call_ids):04d}",
            "name": chosen["name"],
            "arguments": json.dumps(arguments),
        }

    def _more_calls(self, call: dict[str, Any], count: int) -> list[dict[str, Any]]:
        """`count` more calls of the same tool, the Nth with each `test` argument `testN`."""
        return [
            {
                "id": f"call_fake_{next(self._call_ids):04d}",
                "name": call["name"],
                "arguments": call["arguments"].replace('"test"', f'"test{n}"'),
            }
            for n in range(2, count + 2)
        ]

    async def _answer(
        self,
        request: web.Request,
        body: dict[str, Any],
        pieces: list[str],
        stream: bool,
        tool_calls: tuple[dict[str, Any], ...] = (),
        reasoning: list[str] | None = None,
    ) -> web.StreamResponse:
        completion_id = f"chatcmpl-fake-{next(self._call_ids):04d}"
        model = body.get("model", MODEL)
        created = int(time.time())
        finish = "tool_calls" if tool_calls else "stop"
        usage = {
            "prompt_tokens": sum(len(text_of(m.get("content")).split()) for m in body["messages"]),
            "completion_tokens": max(len(pieces), 1),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if not stream:
            message: dict[str, Any] = {"role": "assistant", "content": "".join(pieces) or None}
            if tool_calls:
                message["tool_calls"] = [_tool_call_json(call) for call in tool_calls]
            return web.json_response(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": usage,
                }
            )

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }

        response = await _sse_response(request)
        await _send(response, chunk({"role": "assistant", "content": ""}))
        for thought in reasoning or ():  # as DeepSeek and vLLM stream it, before the answer
            await asyncio.sleep(DELTA_INTERVAL)
            await _send(response, chunk({"reasoning_content": thought}))
        for piece in pieces:
            await asyncio.sleep(DELTA_INTERVAL)
            await _send(response, chunk({"content": piece}))
        for index, tool_call in enumerate(tool_calls):
            head = _tool_call_json(tool_call, arguments="")
            await _send(response, chunk({"tool_calls": [{"index": index, **head}]}))
            arguments = tool_call["arguments"]
            middle = len(arguments) // 2
            for part in (arguments[:middle], arguments[middle:]):
                await asyncio.sleep(DELTA_INTERVAL)
                delta = {"index": index, "function": {"arguments": part}}
                await _send(response, chunk({"tool_calls": [delta]}))
        await _send(response, chunk({}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            await _send(response, {**chunk({}), "choices": [], "usage": usage})
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _fail_midway(
        self, request: web.Request, body: dict[str, Any], *, drop: bool
    ) -> web.StreamResponse:
        completion_id = f"chatcmpl-fake-{next(self._call_ids):04d}"
        response = await _sse_response(request)
        for piece in words(TEXT_ANSWER)[:4]:
            await asyncio.sleep(DELTA_INTERVAL)
            await _send(
                response,
                {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": body.get("model", MODEL),
                    "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                },
            )
        await asyncio.sleep(DELTA_INTERVAL)
        if drop:
            await response.write(b'data: {"id": "' + completion_id.encode() + b'", "obj')
            if request.transport is not None:
                request.transport.close()
            return response
        error = {"error": {"message": FAIL_MESSAGE, "type": "server_error", "code": 500}}
        await _send(response, error)
        await response.write_eof()
        return response


def _is_trailing_note(messages: list[dict[str, Any]]) -> bool:
    """Whether the last message is a developer or system note that follows a user message."""
    roles = [message.get("role") for message in messages]
    return len(roles) > 1 and roles[-1] in ("developer", "system") and "user" in roles[:-1]


def _is_guard_prompt(text: str) -> bool:
    return "<BEGIN CONVERSATION>" in text and "unsafe content" in text


def words(text: str) -> list[str]:
    """Split text into word deltas that join back to it exactly."""
    return re.findall(r"\S+\s*", text) or [text]


def _tool_call_json(call: dict[str, Any], arguments: str | None = None) -> dict[str, Any]:
    return {
        "id": call["id"],
        "type": "function",
        "function": {
            "name": call["name"],
            "arguments": call["arguments"] if arguments is None else arguments,
        },
    }


async def _sse_response(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    return response


async def _send(response: web.StreamResponse, payload: dict[str, Any]) -> None:
    await response.write(f"data: {json.dumps(payload)}\n\n".encode())


def _log(message: str) -> None:
    print(f"fake-model: {message}", file=sys.stderr, flush=True)


async def serve(host: str, port: int) -> None:
    """Serve the fake model until cancelled, printing the bound port once listening."""
    runner = web.AppRunner(FakeModel().app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"listening on {bound}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    """Parse --host/--port and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
