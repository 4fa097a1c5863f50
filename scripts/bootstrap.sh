#!/usr/bin/env bash
# Install what the app needs into .venv (idempotent). Usage: bootstrap.sh [dev]
# The browser libraries ship inside the package (app/vendor/); `dev` also installs the
# official Socket.IO client for Node (node_modules/), which some tests drive.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "${1:-}" = "dev" ]; then
  .venv/bin/python -m pip install -q -e '.[dev]'
else
  .venv/bin/python -m pip install -q -e .
fi
if [ "${1:-}" = "dev" ] && command -v npm >/dev/null; then
  npm ci --no-audit --no-fund --silent
fi
