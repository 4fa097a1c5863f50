"""Helpers for the admin tests: signed-in clients, chats opened like the widget, form pages."""

from __future__ import annotations

import re

import pytest

from app.desk import chats
from tests.support.accounts import sign_in


def hidden_inputs(html: bytes, form_class: str = "admin-form") -> dict[str, list[str]]:
    """Every hidden input of the page's form, as a browser would send them (all values)."""
    text = html.decode()
    start = text.index(f'class="{form_class}"')
    form = text[start:text.index("</form>", start)]
    fields: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        if 'type="hidden"' not in tag:
            continue
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields.setdefault(name.group(1), []).append(value.group(1) if value else "")
    return fields


def open_chat_sr(queue: str = "Network", name: str = "Eve End-User",
                 email: str = "eve@example.com", question: str = "My VPN drops"):
    """An SR opened the way the widget opens one: a chat request."""
    return chats.request_chat(name=name, email=email, queue=queue, question=question)


@pytest.fixture
def manager(client, desk):
    sign_in(client, "maria")
    return client


@pytest.fixture
def agent(client, desk):
    sign_in(client, "bob")
    return client


@pytest.fixture
def other_browser(app, database_url):
    """A client of a second app on the same database, for a second person at the same time.

    Requests of the `client` fixture share the test's app context, and with it Flask-Login's
    cached user in `g`; a second app gives each request its own context, as a server does.
    """
    from app import create_app
    from app.extensions import db

    second = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    yield second.test_client
    with second.app_context():
        db.session.remove()
        db.engine.dispose()
