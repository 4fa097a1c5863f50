"""Webhooks against a real HTTP receiver on a loopback port."""

from __future__ import annotations

import pytest

SECRET = "a-shared-secret-of-the-receiver"


@pytest.fixture
def webhook(app, desk, receiver):
    """A webhook on every event, to the receiver."""
    from app.integration import webhooks

    return webhooks.add_webhook(receiver.url, secret=SECRET)
