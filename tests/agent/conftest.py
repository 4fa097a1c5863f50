"""Agent-console fixtures: logged-in test clients and chats made through the service layer."""

from __future__ import annotations

import pytest

from app.desk import chats
from app.models import SenderRole
from tests.support.accounts import signed_in


@pytest.fixture
def alice(app, desk):
    return signed_in(app, "alice")


@pytest.fixture
def bob(app, desk):
    return signed_in(app, "bob")


def new_chat(queue: str, question: str = "My laptop will not boot", name: str = "Eve End-User"):
    return chats.request_chat(name=name, email="eve@example.com", phone="+1 555 0100",
                              queue=queue, question=question)


@pytest.fixture
def finished_chat(desk):
    """A Software chat that alice accepted and closed: its SR is QUEUED and hers."""
    result = new_chat("Software", "Excel crashes on start")
    chat = chats.accept_chat(result.chat.id, desk.alice)
    chats.close_chat(chat.id, by=SenderRole.AGENT, agent=desk.alice)
    return chat.service_request.number
