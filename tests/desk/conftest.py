"""Fixtures of the service-layer tests."""

from __future__ import annotations

import pytest

from app.desk import events


@pytest.fixture
def published():
    """The desk events published while the test runs, in order."""
    seen: list[object] = []
    events.subscribe(seen.extend)
    yield seen
    events.unsubscribe(seen.extend)
