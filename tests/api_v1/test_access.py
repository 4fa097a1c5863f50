"""Who may use the API: tokens, rights, and answers that never confirm what one may not see."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.live


def test_no_token_an_unknown_token_and_a_revoked_token_are_401(api_desk):
    for headers in ({}, {"Authorization": "Bearer sdc_not-a-token"},
                    {"Authorization": f"Bearer {api_desk.facts['revoked']}"},
                    {"Authorization": f"Bearer {api_desk.facts['disabled']}"},  # account off
                    {"Authorization": f"Basic {api_desk.tokens['alice']}"}):
        reply = api_desk.call("GET", "/me", None, headers=headers)
        assert reply.status_code == 401, headers
        assert reply.json()["error"] == "unauthorized"
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_session_cookie_opens_nothing(api_desk):
    from tests.support.accounts import http_session

    browser = http_session(api_desk.url, "maria", "demo", 10)
    reply = browser.get(f"{api_desk.url}/api/v1/me", timeout=10)
    assert reply.status_code == 401


def test_me_names_the_tokens_user_and_keeps_the_last_use(api_desk):
    from sqlalchemy import select

    from app.models import ApiToken, User

    me = api_desk.get("/me", "bob").json()
    assert me["username"] == "bob" and me["role"] == "AGENT" and me["name"] == "Bob Builder"

    def last_used():
        from app.extensions import db

        return db.session.scalar(select(ApiToken.last_used_at).join(User).where(
            User.username == "bob", ApiToken.revoked_at.is_(None)))

    assert api_desk.run(last_used) is not None


def test_another_users_resources_are_404_not_403(api_desk):
    facts = api_desk.facts
    # alice works in Hardware and Software: Network's chats and SRs are unknown to her.
    for path in (f"/chats/{facts['network_chat']}", f"/chats/{facts['network_chat']}/messages",
                 f"/service-requests/{facts['switch_sr']}",
                 f"/service-requests/{facts['switch_sr']}/work-log",
                 f"/persons/{facts['nina']}"):
        reply = api_desk.get(path, "alice")
        assert reply.status_code == 404, path
        assert reply.json()["ok"] is False
        assert api_desk.get(path, "maria").status_code == 200, path  # the manager sees all
    # a chat that does not exist at all answers exactly the same
    assert api_desk.get("/chats/999999", "alice").json() == \
        {**api_desk.get(f"/chats/{facts['network_chat']}", "alice").json()}
    assert api_desk.get("/service-requests/SR999999").status_code == 404


def test_unknown_routes_and_methods_answer_json(api_desk):
    missing = api_desk.get("/tickets")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = api_desk.call("DELETE", f"/chats/{api_desk.facts['hardware_chat']}")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
