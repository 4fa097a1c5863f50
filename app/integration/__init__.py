"""What other systems use: webhooks that tell them what happens in the desk.

- `events`: which desk event is which webhook event, and its payload (one place).
- `outbox`: deliveries written in the same transaction as the change that causes them.
- `webhooks`: registering a receiver (URL, secret, events), from the CLI or the admin.
- `addresses`, `delivery`: where a webhook may go, and one signed POST with a time-out.
- `sender`: the webhook channel of the shared outbox sender (app/outbox).

The REST API for other systems is app/api/v1.
"""

from __future__ import annotations

from flask import Flask

from app.integration import outbox


def init_app(app: Flask) -> None:
    outbox.init_app(app)
