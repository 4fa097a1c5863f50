#!/usr/bin/env bash
# One command for a newcomer: install, create the SQLite database with the demo, start the app.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export FLASK_APP=wsgi
.venv/bin/flask db upgrade
.venv/bin/flask seed-demo
exec .venv/bin/python wsgi.py
