"""Logging in and out through the real form."""

from __future__ import annotations

import pytest

from tests.support.accounts import sign_in as login

pytestmark = pytest.mark.one_backend  # the login form and its redirects, whatever the database


def test_agent_lands_in_the_chat_window_and_manager_on_the_dashboard(desk, app):
    agent = app.test_client()
    assert login(agent, "alice").headers["Location"] == "/"
    manager = app.test_client()
    assert login(manager, "maria").headers["Location"] == "/admin/"


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(desk, client):
    reply = login(client, "alice", "nope")
    assert reply.status_code == 401
    assert b"Wrong username or password." in reply.data
    assert client.get("/").status_code == 302


def test_next_only_follows_local_paths(desk, app):
    assert login(app.test_client(), "alice", next_url="/my-work").headers["Location"] == \
        "/my-work"
    assert login(app.test_client(), "alice",
                 next_url="https://evil.example/").headers["Location"] == "/"
    assert login(app.test_client(), "alice", next_url="//evil.example").headers["Location"] == "/"


def test_disabled_account_cannot_log_in(desk, client):
    from app.extensions import db

    desk.bob.is_enabled = False
    db.session.commit()
    assert login(client, "bob").status_code == 401


def test_logout_needs_a_post_and_ends_the_session(desk, app):
    client = app.test_client()
    login(client, "alice")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_next_with_backslashes_or_control_characters_stays_on_this_site(desk, app):
    for target in ["/\\evil.example", "\\\\evil.example", "/\\/evil.example",
                   "/%5Cevil.example", "/%09/evil.example", "/%0A/evil.example"]:
        reply = login(app.test_client(), "alice", next_url=target)
        assert reply.headers["Location"] == "/", target


def test_create_user_command_refuses_a_short_password(desk, app):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["create-user", "dave", "--name", "Dave", "--password", "short"])
    assert refused.exit_code != 0
    assert "password must have at least 12 characters." in refused.output
    created = runner.invoke(args=["create-user", "dave", "--name", "Dave",
                                  "--password", "correct horse battery"])
    assert created.exit_code == 0, created.output
    assert login(app.test_client(), "dave", "correct horse battery").status_code == 302
