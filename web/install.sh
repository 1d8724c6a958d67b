#!/usr/bin/env bash
# Install web/'s npm packages (esbuild, PatternFly, playwright-core for the browser tests) from
# package-lock.json with `npm ci`, unless that same lock is already installed.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
if ! command -v npm >/dev/null; then
    echo "web: npm (Node.js 20+) is missing: the browser tests will be skipped (they fail under CI)" >&2
    exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
