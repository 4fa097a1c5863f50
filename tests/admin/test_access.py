"""Only managers reach the admin: every view, every method; anonymous to login, agents 403."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import PersonGroup, ServiceRequest
from tests.admin.conftest import open_chat_sr
from tests.support.accounts import sign_in

# One page of each kind per view: what a manager opens.
MANAGER_PAGES = [
    "/admin/", "/admin/dashboard.json",
    "/admin/servicerequest/", "/admin/servicerequest/new/",
    "/admin/servicerequest/edit/?id={sr}", "/admin/servicerequest/bulk/?op=status&ids={sr}",
    "/admin/chat/", "/admin/chat/details/?id={chat}",
    "/admin/persongroup/", "/admin/persongroup/new/", "/admin/persongroup/edit/?id={group}",
    "/admin/user/", "/admin/user/new/", "/admin/user/edit/?id={user}",
    "/admin/person/", "/admin/person/new/", "/admin/person/edit/?id={person}",
    "/admin/ci/", "/admin/ci/new/", "/admin/asset/", "/admin/asset/new/",
    "/admin/outbox/",
]


def _admin_rules(app):
    """Every URL rule the admin registered, except its static files."""
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin") and not rule.endpoint.endswith(".static"):
            url = rule.rule.replace("<int:sr_id>", "1").replace("<export_type>", "csv")
            rules.append((url, sorted(rule.methods - {"HEAD", "OPTIONS"})))
    return rules


@pytest.fixture
def records(desk):
    result = open_chat_sr()
    return {"sr": result.sr.id, "chat": result.chat.id, "group": desk.network.id,
            "user": desk.bob.id, "person": desk.bob.person_id}


def test_the_admin_has_many_views_and_all_are_checked(app):
    assert len(_admin_rules(app)) > 60


def test_anonymous_is_sent_to_login_on_every_admin_url(app, client, records):
    for url, methods in _admin_rules(app):
        for method in methods:
            response = client.open(url, method=method)
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.headers["Location"].startswith("/login?next="), (method, url)


def test_agent_gets_403_on_every_admin_url_and_changes_nothing(app, agent, records):
    summary = db.session.get(ServiceRequest, records["sr"]).summary
    for url, methods in _admin_rules(app):
        for method in methods:
            response = agent.open(url, method=method, data={"summary": "hacked", "name": "x"})
            assert response.status_code == 403, (method, url, response.status_code)
            assert b"Service requests" not in response.data
    db.session.expire_all()
    assert db.session.get(ServiceRequest, records["sr"]).summary == summary
    assert db.session.query(PersonGroup).filter_by(name="x").count() == 0


def test_manager_opens_every_view(manager, records):
    for page in MANAGER_PAGES:
        url = page.format(**records)
        response = manager.get(url)
        assert response.status_code == 200, (url, response.status_code)


def test_admin_menu_lists_every_screen(manager):
    page = manager.get("/admin/").get_data(as_text=True)
    for label in ("Service requests", "Chats", "Groups &amp; queues", "Users", "Persons",
                  "Configuration items", "Assets", "Outbox", "Desk dashboard"):
        assert label in page, label


def test_a_disabled_manager_loses_the_admin(app, client, desk):
    sign_in(client, "maria")
    assert client.get("/admin/").status_code == 200
    desk.maria.is_enabled = False
    db.session.commit()
    assert client.get("/admin/").status_code == 302
