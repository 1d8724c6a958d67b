#!/usr/bin/env python
"""Run lightspeed-stack 0.7.1's (or 0.4.2's) whole app (uvicorn, `app.main:app`) before an upstream.

Runs INSIDE the venv made by ``tests/oracle/make_release_venv.sh 0.7.1`` (OGX 1.2.5 upstream) or
``... 0.4.2`` (llama-stack 0.4 upstream, the same flags):

    .venv-oracle-0.7.1/bin/python tests/oracle/lightspeed_app.py \\
        --upstream http://127.0.0.1:8321 --port 8080 [--model openai/fake-model]

It writes a lightspeed-stack.yaml (no authentication, no transcripts or feedback, SQLite
databases and conversation cache in a temporary directory, the model as the default model)
into a temporary directory, points ``LIGHTSPEED_STACK_CONFIG_PATH`` at it and serves the real,
unmodified app on 127.0.0.1 until interrupted. ``--print-config`` prints the YAML and exits.
The top-level modules the wheel lacks come from ``standins/<release>/`` (installed into the
venv by make_release_venv.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from importlib.metadata import version
from typing import Any


def config(upstream: str, port: int, model: str, workdir: str) -> dict[str, Any]:
    """The app's configuration: the given upstream, no auth, its state under `workdir`."""
    provider, _, name = model.partition("/")
    # 0.7 renamed the upstream's section from `llama_stack` to `ogx`
    section = "ogx" if version("lightspeed-stack") >= "0.7" else "llama_stack"
    return {
        "name": "lightspeed-stack-0.7.1-oracle",
        "service": {
            "host": "127.0.0.1",
            "port": port,
            "auth_enabled": False,
            "workers": 1,
            "color_log": False,
            "access_log": False,
        },
        section: {"url": upstream, "use_as_library_client": False, "api_key": "xyzzy"},
        "user_data_collection": {"feedback_enabled": False, "transcripts_enabled": False},
        "authentication": {"module": "noop"},
        "inference": {"default_model": name, "default_provider": provider},
        "database": {"sqlite": {"db_path": f"{workdir}/lightspeed-stack.db"}},
        "conversation_cache": {"type": "sqlite", "sqlite": {"db_path": f"{workdir}/cache.db"}},
    }


def main() -> int:
    """Write the configuration, then serve the app (or print the configuration)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="the OGX (llama-stack) base URL")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", default="openai/fake-model")
    parser.add_argument("--print-config", action="store_true")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lightspeed-0.7.1-") as workdir:
        settings = config(args.upstream, args.port, args.model, workdir)
        if args.print_config:
            print(json.dumps(settings, indent=2))
            return 0
        path = os.path.join(workdir, "lightspeed-stack.yaml")
        with open(path, "w", encoding="utf-8") as out:
            json.dump(settings, out)  # JSON is YAML
        os.environ["LIGHTSPEED_STACK_CONFIG_PATH"] = path
        # 0.7.1 anonymizes the user id of its (always on) trace spans with this secret
        os.environ.setdefault("OTEL_ANONYMIZATION_SECRET", "lightspeed-oracle")
        import uvicorn

        uvicorn.run(
            "app.main:app",
            host="127.0.0.1",
            port=args.port,
            log_level=args.log_level,
            access_log=False,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
