"""Command line: `python -m service` runs the gateway."""

from __future__ import annotations

import argparse
import sys

import uvloop
from aiohttp import web
from pydantic import ValidationError

from service.app import create_app
from service.auth import AuthConfigError
from service.drain import GRACE_AFTER_STOP
from service.log_config import configure_logging
from service.settings import SettingsFileError, load_settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m service",
        description="agent-stream-gateway: stream llama-stack agent turns as SSE in many formats.",
        epilog="Every other setting comes from the environment or the YAML file (see README).",
    )
    parser.add_argument("--host", help="address to listen on (env HOST, default 0.0.0.0)")
    parser.add_argument("--port", type=int, help="port to listen on (env PORT, default 8080)")
    parser.add_argument("--config", metavar="FILE", help="YAML settings file (env SERVICE_CONFIG)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the service until it is stopped."""
    args = parse_args(argv)
    try:
        settings = load_settings(args.config, host=args.host, port=args.port)
    except (SettingsFileError, ValidationError) as exc:
        print(f"invalid settings: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    try:
        app = create_app(settings)
    except AuthConfigError as exc:
        print(f"invalid settings: {exc}", file=sys.stderr)
        return 2
    web.run_app(
        app,
        loop=uvloop.new_event_loop(),  # bench/ttfb.py: less CPU per event than asyncio's loop
        host=settings.host,
        port=settings.port,
        access_log=None,
        shutdown_timeout=GRACE_AFTER_STOP,
        print=lambda text: print(text, file=sys.stderr),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
