"""The floor: a bare aiohttp relay that copies the upstream's SSE lines to the client.

Run as its own process: `python -m bench.relay --port P --upstream URL [--api responses]`. `POST
/v1/streaming_query` posts the query to one fixed agent session's turn (or, with `--api
responses`, as the `input` of `POST /v1/responses`) and writes every
complete SSE event (its lines up to the blank line) to the client as it arrives: one write per
event, no parsing, no JSON, no formatting. What the service costs above this is its own work.
"""

from __future__ import annotations

import argparse
import socket

import aiohttp
from aiohttp import web

UPSTREAM = web.AppKey("upstream", aiohttp.ClientSession)
TURN_URL = web.AppKey("turn_url", str)
API = web.AppKey("api", str)
TURN_PATH = "/v1/agents/agent-0/session/session-0/turn"


async def streaming_query(request: web.Request) -> web.StreamResponse:
    """Relay one turn's SSE lines, event by event."""
    query = (await request.json())["query"]
    body: dict[str, object] = {"messages": [{"role": "user", "content": query}], "stream": True}
    if request.app[API] == "responses":
        body = {"input": query, "model": "bench/fake-model", "stream": True}
    async with request.app[UPSTREAM].post(request.app[TURN_URL], json=body) as upstream:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
            }
        )
        await response.prepare(request)
        event: list[bytes] = []
        async for line in upstream.content:
            event.append(line)
            if line in (b"\n", b"\r\n"):
                await response.write(b"".join(event))
                event.clear()
        if event:
            await response.write(b"".join(event))
    await response.write_eof()
    return response


def make_app(upstream: str, api: str = "agents") -> web.Application:
    """Build the relay in front of `upstream` (the fake's base URL), Agents or Responses API."""
    app = web.Application()
    app[API] = api

    async def session(app: web.Application):
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as client:
            app[UPSTREAM] = client
            path = "/v1/responses" if api == "responses" else TURN_PATH
            app[TURN_URL] = upstream.rstrip("/") + path
            yield

    app.cleanup_ctx.append(session)
    app.router.add_post("/v1/streaming_query", streaming_query)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--api", choices=("agents", "responses"), default="agents")
    args = parser.parse_args()
    sock = socket.create_server(("127.0.0.1", args.port), backlog=4096)
    web.run_app(
        make_app(args.upstream, args.api), sock=sock, access_log=None, print=None, backlog=4096
    )


if __name__ == "__main__":
    main()
