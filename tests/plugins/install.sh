#!/usr/bin/env bash
# Install the test plugin packages into the given Python environment (non-editable, as a user
# would), unless this exact source is installed already.
set -euo pipefail
python=${1:?usage: tests/plugins/install.sh PYTHON}
[[ $python == /* ]] || python=$PWD/$python # absolute, but not resolved: a venv's python is a link
cd "$(dirname "$0")"
for package in shout_formatter; do
    want=$(find "$package" -type f \( -name '*.py' -o -name '*.toml' -o -name '*.cfg' \) \
        -not -path '*/build/*' -not -path '*.egg-info/*' | sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
    stamp=$("$python" -c 'import sys; print(sys.prefix)')/.plugin-$package.sha256
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        continue
    fi
    "$python" -m pip install --quiet --force-reinstall --no-deps "./$package"
    rm -rf "$package/build" "$package"/*.egg-info
    echo "$want" >"$stamp"
done
