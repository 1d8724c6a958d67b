#!/usr/bin/env bash
# Build the venv that runs tests/oracle/agents_oracle.py for one later lightspeed-stack release:
# lightspeed-stack==RELEASE --no-deps from PyPI plus the libraries its import chain of
# app.endpoints.streaming_query needs, every version pinned to the release's own uv.lock
# (tests/oracle/releases/RELEASE.txt, the lock's package list).
#
#   tests/oracle/make_release_venv.sh RELEASE [VENV_DIR]
#
# RELEASE: 0.2.0, 0.3.0, 0.4.2 or 0.7.1. 0.4.2 and 0.7.1 are installed whole (with every
# dependency: 0.7.1's OGX 1.2.5 client and pydantic-ai, 0.4.2's llama-stack 0.4.3; pandas from
# a wheel) and run as the whole app: tests/oracle/lightspeed_app.py. The top-level modules
# their wheels lack come from tests/oracle/standins/RELEASE/ (copied into the venv).
# VENV_DIR defaults to .venv-oracle-RELEASE at the repository root. Idempotent: a venv whose
# marker file (.oracle-venv-complete) matches the package spec is left alone; anything else is
# rebuilt from scratch. Needs only PyPI. Non-interactive.
set -euo pipefail

RELEASE=${1:?usage: make_release_venv.sh RELEASE [VENV_DIR]}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
VENV="${2:-$REPO/.venv-oracle-$RELEASE}"
MARKER="$VENV/.oracle-venv-complete"
CONSTRAINTS="$REPO/tests/oracle/releases/$RELEASE.txt"

case "$RELEASE" in
  # What 0.2.0's app.endpoints.streaming_query imports, directly or through auth/, metrics/,
  # utils/, app/database.py. llama-stack itself is left out (library-client mode only).
  0.2.0) DEPS="llama-stack-client fastapi starlette pydantic cachetools prometheus-client kubernetes authlib aiohttp sqlalchemy semver email-validator" ;;
  # 0.3.0 counts the end frame's tokens with llama-stack's Llama 3 tokenizer: llama-stack 0.2.22
  # itself (with its dependencies) is needed; psycopg2 and jsonpath-ng are imported too.
  0.3.0) DEPS="llama-stack llama-stack-client fastapi starlette pydantic cachetools prometheus-client kubernetes authlib aiohttp sqlalchemy semver email-validator jsonpath-ng psycopg2-binary openai" ;;
  # 0.7.1 speaks OGX Responses through a pydantic-ai agent: the whole package, with its
  # dependencies (constraints: releases/0.7.1.txt, a pip freeze, as no uv.lock of it is in reach).
  0.7.1) DEPS="" ;;
  # 0.4.2 speaks llama-stack's Responses API (llama-stack-client 0.4.3): the whole package too;
  # its missing top-level modules are the 0.4.2 tag's own files, verbatim (standins/0.4.2).
  0.4.2) DEPS="" ;;
  *) echo "make_release_venv.sh: no oracle for lightspeed-stack $RELEASE" >&2; exit 2 ;;
esac

STANDINS="$REPO/tests/oracle/standins/$RELEASE"
STANDINS_HASH=""
if [ -d "$STANDINS" ] && [ -z "$DEPS" ]; then
  STANDINS_HASH=$(cd "$STANDINS" && find . -name '*.py' -print0 | sort -z | xargs -0 sha256sum | sha256sum)
fi
SPEC="lightspeed-oracle-venv v1 lightspeed-stack==$RELEASE deps=[$DEPS] $(sha256sum <"$CONSTRAINTS")${STANDINS_HASH:+ standins=[$STANDINS_HASH]}"
SPEC_HASH=$(printf '%s' "$SPEC" | sha256sum | cut -c1-16)
if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$SPEC_HASH" ] && [ -x "$VENV/bin/python" ]; then
  echo "make_release_venv.sh: $VENV is complete; nothing to do"
  exit 0
fi

PY=$(PYTHON="${ORACLE_PYTHON:-${PYTHON:-}}" "$REPO/scripts/find-python")
PY_REAL=$("$PY" -c 'import sys; print(sys.executable)')
echo "make_release_venv.sh: using $PY_REAL ($("$PY_REAL" -V 2>&1)), lightspeed-stack $RELEASE, venv $VENV"
"$REPO/scripts/fresh-venv" "$PY_REAL" "$VENV"

export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1
PIP=("$VENV/bin/python" -m pip install --quiet --constraint "$CONSTRAINTS")
if [ -z "$DEPS" ]; then
  "${PIP[@]}" --only-binary=pandas "lightspeed-stack==$RELEASE"
  SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  (cd "$STANDINS" && find . -name '*.py' -print0 | xargs -0 cp --parents -t "$SITE")
else
  # shellcheck disable=SC2086
  "${PIP[@]}" $DEPS
  # pip reports the deliberately missing dependencies as a "dependency conflict": drop those lines.
  LOG=$(mktemp)
  trap 'rm -f "$LOG"' EXIT
  rc=0
  "${PIP[@]}" --no-deps "lightspeed-stack==$RELEASE" >"$LOG" 2>&1 || rc=$?
  grep -vE "dependency resolver does not currently|lightspeed-stack [0-9.]+ requires " "$LOG" >&2 || true
  if [ "$rc" -ne 0 ]; then echo "make_release_venv.sh: pip install lightspeed-stack failed ($rc)" >&2; exit "$rc"; fi
fi

"$VENV/bin/python" - "$RELEASE" <<'EOF'
import sys
from importlib.metadata import version
assert version("lightspeed-stack") == sys.argv[1], version("lightspeed-stack")
import app.endpoints  # from the lightspeed-stack wheel
if sys.argv[1] >= "0.4":
    import configuration, constants, log, version as _v  # the stand-ins
    __import__("client.ogx" if sys.argv[1] >= "0.7" else "client")
    # its streaming path, through the stand-ins
    __import__("utils.agents.streaming" if sys.argv[1] >= "0.7" else "utils.responses")
client = "ogx_client" if sys.argv[1] >= "0.7" else "llama-stack-client"
print("make_release_venv.sh: ok: lightspeed-stack", version("lightspeed-stack"),
      client, version(client), "pydantic", version("pydantic"))
EOF

echo "$SPEC_HASH" > "$MARKER"
echo "make_release_venv.sh: done: $VENV"
