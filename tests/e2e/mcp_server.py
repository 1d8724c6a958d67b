"""A tiny MCP server (streamable HTTP at /mcp) with one tool, get_weather, for the e2e tier.

Runs in a server venv: `python tests/e2e/mcp_server.py --port N`, with mcp 1.x (llama-stack
0.7.3 and 0.2.23, OGX 1.2.5: FastMCP) or mcp 2.x (OGX 1.5: FastMCP renamed MCPServer, host and
port moved from the constructor to `run`).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

WEATHER = {"temperature_c": 21, "sky": "clear", "source": "mcp"}


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return json.dumps({"city": city, **WEATHER})


def serve(host: str, port: int) -> None:
    """Serve get_weather over stateless streamable HTTP at /mcp, with whichever mcp is installed."""
    try:
        from mcp.server.mcpserver import MCPServer
    except ImportError:
        from mcp.server.fastmcp import FastMCP

        v1: Any = FastMCP("fake", host=host, port=port, stateless_http=True)
        v1.tool()(get_weather)
        v1.run(transport="streamable-http")
        return
    v2: Any = MCPServer("fake")
    v2.tool()(get_weather)
    v2.run(transport="streamable-http", host=host, port=port, stateless_http=True)


def main() -> None:
    """Parse --host/--port and serve over streamable HTTP."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
