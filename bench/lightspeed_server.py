#!/usr/bin/env python
"""lightspeed-stack 0.1.3 itself, served by uvicorn, in front of the benchmarks' fake Agents API.

Runs INSIDE the lightspeed venv (`tests/oracle/make_venv.sh .venv-bench-lightspeed --full`:
lightspeed-stack 0.1.3 with its pinned dependencies, llama-stack 0.2.16 and uvicorn 0.35
included), not the project's:

    .venv-bench-lightspeed/bin/python bench/lightspeed_server.py --port P --upstream URL

It does what lightspeed-stack's own `lightspeed_stack.py` does (missing from the 0.1.3 wheel):
load the configuration (here from a dict: llama-stack at URL, auth `noop`, transcripts and
feedback off), put an `AsyncLlamaStackClient` for that URL in the client holder, and run
`app.main:app` with `runners/uvicorn.py`'s settings (one worker, access log on). The five
top-level modules the wheel lacks come from the oracle's stand-ins
(tests/oracle/lightspeed_oracle.py); the application code is the wheel's, unmodified.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()

    sys.path.insert(0, str(REPO / "tests" / "oracle"))
    import lightspeed_oracle

    lightspeed_oracle.install_stub_modules()
    sys.path.remove(str(REPO / "tests" / "oracle"))
    import configuration

    configuration.configuration.init_from_dict(
        {
            "name": "lightspeed-stack-bench",
            "service": {"host": "127.0.0.1", "port": args.port, "workers": 1},
            "llama_stack": {"url": args.upstream, "api_key": None},
            "user_data_collection": {"transcripts_enabled": False, "feedback_enabled": False},
            "authentication": {"module": "noop"},
            "mcp_servers": [],
        }
    )
    import client
    import uvicorn
    from llama_stack_client import AsyncLlamaStackClient, LlamaStackClient

    # lightspeed_stack.py loads both holders (the sync one serves the start-up model metrics).
    client.LlamaStackClientHolder().set_client(LlamaStackClient(base_url=args.upstream))
    client.AsyncLlamaStackClientHolder().set_client(AsyncLlamaStackClient(base_url=args.upstream))
    from app.main import app

    service = configuration.configuration.service_configuration
    uvicorn.run(
        app,
        host=service.host,
        port=service.port,
        workers=service.workers,
        log_level=logging.INFO,
        use_colors=False,
        access_log=True,
        backlog=4096,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
