#!/usr/bin/env bash
# Install what the app needs into .venv (idempotent). Usage: bootstrap.sh [dev]
# The browser libraries ship inside the package (app/vendor/); `dev` also installs the
# official Socket.IO client for Node (node_modules/), which some tests drive.
# A stamp of what was installed (the kind and the dependency files' checksum) skips the
# installers when nothing changed, so `make test-fast` starts at once.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
KIND=${1:-app}
STAMP=.venv/.installed
WANT="$KIND $(cat pyproject.toml package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [ -x .venv/bin/python ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] \
   && { [ "$KIND" != "dev" ] || [ -d node_modules ] || ! command -v npm >/dev/null; }; then
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "$KIND" = "dev" ]; then
  .venv/bin/python -m pip install -q -e '.[dev]'
else
  .venv/bin/python -m pip install -q -e .
fi
if [ "$KIND" = "dev" ] && command -v npm >/dev/null; then
  npm ci --no-audit --no-fund --silent
fi
echo "$WANT" > "$STAMP"
