#!/usr/bin/env bash
# One command for a newcomer: install, create the SQLite database with the demo, start the app.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export FLASK_APP=wsgi
# The server refuses to start without a real SECRET_KEY: the demo makes one once and keeps it
# in instance/ (not in the repository), so logins survive a restart.
if [ -z "${SECRET_KEY:-}" ]; then
  mkdir -p instance
  [ -s instance/demo-secret-key ] || .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' > instance/demo-secret-key
  SECRET_KEY="$(cat instance/demo-secret-key)"
  export SECRET_KEY
fi
# Webhooks to receivers on this machine (e.g. a test receiver on localhost) are allowed here.
export WEBHOOK_ALLOW_PRIVATE="${WEBHOOK_ALLOW_PRIVATE:-true}"
# The demo customer page signs in its employee with the identity secret it shares with the desk.
if [ -z "${WIDGET_IDENTITY_SECRET:-}" ]; then
  [ -s instance/demo-identity-secret ] || .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' > instance/demo-identity-secret
  WIDGET_IDENTITY_SECRET="$(cat instance/demo-identity-secret)"
  export WIDGET_IDENTITY_SECRET
fi
.venv/bin/flask db upgrade
.venv/bin/flask seed-demo --with-history
# The demo customer page (another origin) that embeds the widget; the server must allow it.
export WIDGET_ALLOWED_ORIGINS="${WIDGET_ALLOWED_ORIGINS:-http://127.0.0.1:${DEMO_SITE_PORT:-5001},http://localhost:${DEMO_SITE_PORT:-5001}}"
.venv/bin/python app/widget/demo_host.py --port "${DEMO_SITE_PORT:-5001}" --server "http://127.0.0.1:${PORT:-5000}" &  # prints its address; Ctrl-C stops both
exec .venv/bin/python wsgi.py
