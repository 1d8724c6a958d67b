"""Command line: `python -m service` runs the gateway."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from service.heap import settle_heap
from service.observability.log_config import configure_logging
from service.observability.process import worker_number
from service.settings import Settings, SettingsFileError, load_settings
from service.workers import refusal, run_workers


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
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes sharing the port, one event loop each (default 1; N > 1 needs REDIS_URL)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the service until it is stopped."""
    args = parse_args(argv)
    try:
        settings = load_settings(args.config, host=args.host, port=args.port)
    except (SettingsFileError, ValidationError) as exc:
        print(f"invalid settings: {exc}", file=sys.stderr)
        return 2
    worker = worker_number()
    if worker is None and (problem := refusal(args.workers, settings.redis_url)):
        print(f"refusing to start: {problem}", file=sys.stderr)
        return 2
    if worker is None and args.workers > 1:
        return run_workers(sys.argv[1:] if argv is None else argv, args.workers)
    return serve(settings, reuse_port=worker is not None)


def serve(settings: Settings, *, reuse_port: bool) -> int:
    """Run one process of the service (a worker shares its port: `reuse_port`) until stopped."""
    # imported here: the parent of `--workers N` needs none of it, and it takes seconds
    import uvloop
    from aiohttp import web

    from service.http.app import create_app
    from service.http.auth import AuthConfigError
    from service.streams.drain import GRACE_AFTER_STOP

    configure_logging(settings.log_format, settings.log_level)
    try:
        app = create_app(settings)
    except AuthConfigError as exc:
        print(f"invalid settings: {exc}", file=sys.stderr)
        return 2
    app.on_startup.append(settle_heap)  # last: after the upstream's clients are made
    web.run_app(
        app,
        loop=uvloop.new_event_loop(),  # bench/ttfb.py: less CPU per event than asyncio's loop
        host=settings.host,
        port=settings.port,
        access_log=None,
        reuse_port=reuse_port,
        shutdown_timeout=GRACE_AFTER_STOP,
        print=lambda text: print(text, file=sys.stderr),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
