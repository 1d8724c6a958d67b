#!/usr/bin/env bash
# Install a folder's npm packages from its package-lock.json (`npm ci`), unless that same lock is
# already installed (a stamp in node_modules holds the lock's hash).
#   scripts/npm-ci.sh DIR [--optional]   --optional: no npm is a warning, not a failure
set -euo pipefail
dir=$1
optional=${2:-}
cd "$dir"
stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
if ! command -v npm >/dev/null; then
    if [ "$optional" = "--optional" ]; then
        echo "$dir: npm (Node.js 20+) is missing: its tests will be skipped (they fail under CI)" >&2
        exit 0
    fi
    echo "$dir: npm (Node.js 20+) is needed" >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
