"""Signing in as a person does, through the real login form, for Flask test clients."""

from __future__ import annotations

import re

from flask import g
from flask.testing import FlaskClient


class PersonClient(FlaskClient):
    """The browser of one person. The test's app context is shared by every request, so the
    user Flask-Login cached on `g` for another client is dropped before each request."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


def sign_in(client, username: str, password: str = "demo", next_url: str | None = None):
    """Post the login form (with its CSRF token when the form carries one); the response."""
    url = "/login" + (f"?next={next_url}" if next_url else "")
    data = {"username": username, "password": password}
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").data)
    if token:
        data["csrf_token"] = token.group(1).decode()
    return client.post(url, data=data)


def signed_in(app, username: str, password: str = "demo") -> PersonClient:
    """A new browser of this person, already signed in."""
    client = PersonClient(app, app.response_class, use_cookies=True)
    response = sign_in(client, username, password)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def http_session(base_url: str, username: str, password: str = "demo", timeout: float = 10):
    """A `requests` session of this person on a live server, signed in through the real form
    (production configuration: the form carries a CSRF token)."""
    import requests

    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=timeout).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    form = {"username": username, "password": password}
    if token:
        form["csrf_token"] = token.group(1)
    reply = session.post(f"{base_url}/login", data=form, allow_redirects=False, timeout=timeout)
    assert reply.status_code in (302, 303), f"login of {username} failed: {reply.status_code}"
    return session


def cookie_header(session) -> str:
    """The Cookie header a browser of this session sends (for Socket.IO clients)."""
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)
