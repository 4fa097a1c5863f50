"""Helpers for the admin tests: sign in through the real login form, open chats, read pages."""

from __future__ import annotations

import re

import pytest

from app.desk import chats


def sign_in(client, username: str, password: str = "demo") -> None:
    page = client.get("/login")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.data)
    data = {"username": username, "password": password}
    if token:
        data["csrf_token"] = token.group(1).decode()
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.data[:500]


def form_token(html: bytes) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(rb'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html) \
        or re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1).decode()


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
