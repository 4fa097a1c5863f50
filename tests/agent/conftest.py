"""Agent-console fixtures: logged-in test clients and chats made through the service layer."""

from __future__ import annotations

import pytest
from flask import g
from flask.testing import FlaskClient

from app.desk import chats
from app.models import SenderRole


class AgentClient(FlaskClient):
    """A browser of one agent. The test's app context is shared by every request, so the
    user Flask-Login cached on `g` for another client is dropped before each request."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


def log_in(app, username: str):
    client = AgentClient(app, app.response_class, use_cookies=True)
    response = client.post("/login", data={"username": username, "password": "demo"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def alice(app, desk):
    return log_in(app, "alice")


@pytest.fixture
def bob(app, desk):
    return log_in(app, "bob")


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
