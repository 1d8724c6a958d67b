"""A tiny MCP server (streamable HTTP at /mcp) with one tool, get_weather, for the e2e tier.

Runs in a llama-stack venv (which has `mcp<2`): `python tests/e2e/mcp_server.py --port N`.
"""

from __future__ import annotations

import argparse
import json

from mcp.server.fastmcp import FastMCP

WEATHER = {"temperature_c": 21, "sky": "clear", "source": "mcp"}


def build(host: str, port: int) -> FastMCP:
    """Return the MCP server with its get_weather tool."""
    server = FastMCP("fake", host=host, port=port, stateless_http=True)

    @server.tool()
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return json.dumps({"city": city, **WEATHER})

    return server


def main() -> None:
    """Parse --host/--port and serve over streamable HTTP."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    build(args.host, args.port).run(transport="streamable-http")


if __name__ == "__main__":
    main()
