#!/usr/bin/env bash
# Build the venv that runs tests/oracle/lightspeed_oracle.py: lightspeed-stack 0.1.3
# from PyPI plus what `app.endpoints.streaming_query` needs to import.
#
#   tests/oracle/make_venv.sh [VENV_DIR] [--full]
#
# VENV_DIR defaults to .venv-oracle at the repository root. Idempotent: a venv whose marker file
# (.oracle-venv-complete) matches this script's package spec is left alone.
#
# Default ("minimal"): lightspeed-stack==0.1.3 --no-deps, then llama-stack-client==0.2.16
# and the libraries the import chain of app.endpoints.streaming_query touches (fastapi,
# starlette, pydantic, cachetools, prometheus-client, kubernetes, authlib, aiohttp).
# llama-stack itself is left out: 0.1.3 imports it only for library-client mode, and the
# oracle stands in for that one module. --full installs lightspeed-stack with all its
# dependencies (llama-stack==0.2.16 included) instead; the oracle then uses the real one.
# Every version is pinned to lightspeed-stack 0.1.3's own uv.lock (git tag 0.1.3):
# pydantic 2.11.7, fastapi 0.116.1, starlette 0.47.2, httpx 0.28.1, ...
# Needs only PyPI. Non-interactive.
set -euo pipefail

VENV=""
VARIANT=minimal
for arg in "$@"; do
  case "$arg" in
    --full) VARIANT=full ;;
    --minimal) VARIANT=minimal ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "make_venv.sh: unknown option $arg" >&2; exit 2 ;;
    *) if [ -n "$VENV" ]; then echo "make_venv.sh: one VENV_DIR only" >&2; exit 2; fi; VENV="$arg" ;;
  esac
done
REPO=$(cd "$(dirname "$0")/../.." && pwd)
VENV="${VENV:-$REPO/.venv-oracle}"
MARKER="$VENV/.oracle-venv-complete"

# Versions from lightspeed-stack 0.1.3's uv.lock (closure of its runtime dependencies).
CONSTRAINTS='
aiohappyeyeballs==2.6.1 aiohttp==3.12.15 aiosignal==1.4.0 aiosqlite==0.21.0
annotated-types==0.7.0 anyio==4.9.0 asyncpg==0.30.0 attrs==25.3.0 authlib==1.6.1
cachetools==6.1.0 certifi==2025.8.3 cffi==1.17.1 charset-normalizer==3.4.2 click==8.2.1
colorama==0.4.6 cryptography==45.0.5 distro==1.9.0 durationpy==0.10 ecdsa==0.19.1
fastapi==0.116.1 filelock==3.18.0 fire==0.7.0 frozenlist==1.7.0 fsspec==2025.7.0
google-auth==1.6.3 googleapis-common-protos==1.70.0 h11==0.16.0 hf-xet==1.1.5
httpcore==1.0.9 httpx==0.28.1 huggingface-hub==0.34.3 idna==3.10
importlib-metadata==8.7.0 jinja2==3.1.6 jiter==0.10.0 jsonschema==4.25.0
jsonschema-specifications==2025.4.1 kubernetes==33.1.0 llama-api-client==0.1.2
llama-stack==0.2.16 llama-stack-client==0.2.16 markdown-it-py==3.0.0 markupsafe==3.0.2
mdurl==0.1.2 multidict==6.6.3 numpy==2.3.2 oauthlib==3.3.1 openai==1.98.0
opentelemetry-api==1.36.0 opentelemetry-exporter-otlp-proto-common==1.36.0
opentelemetry-exporter-otlp-proto-http==1.36.0 opentelemetry-proto==1.36.0
opentelemetry-sdk==1.36.0 opentelemetry-semantic-conventions==0.57b0 packaging==25.0
pandas==2.3.1 pillow==11.3.0 prometheus-client==0.22.1 prompt-toolkit==3.0.51
propcache==0.3.2 protobuf==6.31.1 pyaml==25.7.0 pyasn1==0.6.1 pyasn1-modules==0.4.2
pycparser==2.22 pydantic==2.11.7 pydantic-core==2.33.2 pygments==2.19.2
python-dateutil==2.9.0.post0 python-dotenv==1.1.1 python-jose==3.5.0
python-multipart==0.0.20 pytz==2025.2 pyyaml==6.0.2 referencing==0.36.2
regex==2025.7.34 requests==2.32.4 requests-oauthlib==2.0.0 rich==14.1.0 rpds-py==0.26.0
rsa==4.9.1 six==1.17.0 sniffio==1.3.1 starlette==0.47.2 termcolor==3.1.0
tiktoken==0.9.0 tqdm==4.67.1 typing-extensions==4.14.1 typing-inspection==0.4.1
tzdata==2025.2 urllib3==2.5.0 uvicorn==0.35.0 wcwidth==0.2.13 websocket-client==1.8.0
yarl==1.20.1 zipp==3.23.0
'
# What app.endpoints.streaming_query imports, directly or through auth/, metrics/, utils/.
MINIMAL_DEPS="llama-stack-client fastapi starlette pydantic cachetools prometheus-client kubernetes authlib aiohttp"

SPEC="lightspeed-oracle-venv v1 variant=$VARIANT lightspeed-stack==0.1.3 deps=[$MINIMAL_DEPS] $(echo $CONSTRAINTS)"
SPEC_HASH=$(printf '%s' "$SPEC" | sha256sum | cut -c1-16)

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$SPEC_HASH" ] && [ -x "$VENV/bin/python" ]; then
  echo "make_venv.sh: $VENV is complete ($VARIANT); nothing to do"
  exit 0
fi

# --- find Python 3.12 (lightspeed-stack 0.1.3 needs >=3.12,<3.14) ------------------------
PY=$(PYTHON="${ORACLE_PYTHON:-${PYTHON:-}}" "$REPO/scripts/find-python")
# Resolve pyenv shims to the real interpreter so the venv does not depend on PYENV_VERSION.
PY_REAL=$("$PY" -c 'import sys; print(sys.executable)')
echo "make_venv.sh: using $PY_REAL ($("$PY_REAL" -V 2>&1)), variant $VARIANT, venv $VENV"

# --- create the venv: an unfinished or differently specified one is rebuilt from scratch ---
"$REPO/scripts/fresh-venv" "$PY_REAL" "$VENV"

export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1
CFILE=$(mktemp)
trap 'rm -f "$CFILE"' EXIT
echo $CONSTRAINTS | tr ' ' '\n' > "$CFILE"
PIP=("$VENV/bin/python" -m pip install --quiet --constraint "$CFILE")

if [ "$VARIANT" = full ]; then
  "${PIP[@]}" lightspeed-stack==0.1.3
else
  # shellcheck disable=SC2086
  "${PIP[@]}" $MINIMAL_DEPS
  # pip reports the deliberately missing llama-stack/uvicorn as a "dependency conflict":
  # drop those lines, keep everything else.
  LOG=$(mktemp)
  rc=0
  "${PIP[@]}" --no-deps lightspeed-stack==0.1.3 >"$LOG" 2>&1 || rc=$?
  grep -vE "dependency resolver does not currently|lightspeed-stack 0\.1\.3 requires (llama-stack|uvicorn)" "$LOG" >&2 || true
  rm -f "$LOG"
  if [ "$rc" -ne 0 ]; then echo "make_venv.sh: pip install lightspeed-stack failed ($rc)" >&2; exit "$rc"; fi
fi

# --- check that the oracle's import works ----------------------------------------------
"$VENV/bin/python" - <<'EOF'
import sys, types
import llama_stack_client, pydantic, fastapi, starlette
from importlib.metadata import version
assert version("lightspeed-stack") == "0.1.3", version("lightspeed-stack")
assert version("llama-stack-client") == "0.2.16", version("llama-stack-client")
import app.endpoints  # from the lightspeed-stack wheel
print("make_venv.sh: ok: lightspeed-stack", version("lightspeed-stack"),
      "llama-stack-client", version("llama-stack-client"),
      "pydantic", version("pydantic"), "fastapi", version("fastapi"),
      "starlette", version("starlette"), "httpx", version("httpx"))
EOF

echo "$SPEC_HASH" > "$MARKER"
echo "make_venv.sh: done: $VENV"
