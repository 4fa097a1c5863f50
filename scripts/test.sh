#!/usr/bin/env bash
# One command for the whole test suite: install dev dependencies and the browser, run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  else
    echo "Browser tests need Debian's chromium: sudo apt-get install chromium" >&2
    exit 1
  fi
fi
exec .venv/bin/python -m pytest "$@"
