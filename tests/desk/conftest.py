"""Fixtures of the service-layer tests."""

from __future__ import annotations

import pytest

from app.desk import events


@pytest.fixture
def published(app):
    """The desk events delivered to the app's listeners while the test runs, in order."""
    seen: list[object] = []
    events.subscribe(app, seen.extend)
    yield seen
    events.unsubscribe(app, seen.extend)
