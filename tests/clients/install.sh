#!/usr/bin/env bash
# Install the Node test clients from package-lock.json (npm ci) unless the same lock is installed.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
if ! command -v npm >/dev/null; then
    echo "tests/clients: npm (Node.js 20+) is needed for the client tests" >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
