"""Pickers, My work, preferences and the console pages."""

from __future__ import annotations

from app.desk import chats
from app.models import SenderRole
from tests.agent.conftest import new_chat
from tests.support.accounts import signed_in


def test_ci_and_asset_pickers_search(alice):
    cis = alice.get("/agent/api/cis?q=vpn").get_json()["items"]
    assert [c["label"] for c in cis] == ["VPN-GW-01"]
    assets = alice.get("/agent/api/assets?q=macbook").get_json()["items"]
    assert [a["label"] for a in assets] == ["LT-1002 MacBook Pro 14"]
    assert len(alice.get("/agent/api/cis").get_json()["items"]) == 4
    assert alice.get("/agent/api/cis?q=%25").get_json()["items"] == []  # % is literal
    assert alice.get("/agent/api/assets?q=" + "x" * 61).status_code == 400


def test_my_work_lists_own_and_group_srs_with_status_filter(alice, desk):
    hardware = new_chat("Hardware", "Printer jam")
    network = new_chat("Network", "VPN down")
    software = new_chat("Software", "Teams crash")
    chats.accept_chat(software.chat.id, desk.alice)
    chats.close_chat(software.chat.id, by=SenderRole.AGENT, agent=desk.alice)
    rows = alice.get("/agent/api/my-work").get_json()["service_requests"]
    numbers = {r["number"] for r in rows}
    assert numbers == {hardware.sr.number, software.sr.number}
    assert network.sr.number not in numbers
    assert alice.get("/agent/api/my-work?status=RESOLVED").get_json()["service_requests"] == []
    assert alice.get("/agent/api/my-work?status=nonsense").status_code == 400
    page = alice.get("/my-work").get_data(as_text=True)
    assert hardware.sr.number in page and network.sr.number not in page
    assert alice.get("/my-work?status=nonsense").status_code == 400


def test_preferences_choose_the_indicator_style(app, alice):
    page = alice.get("/").get_data(as_text=True)
    assert 'id="chat-queue-indicator"' in page and 'data-style="text"' in page
    saved = alice.post("/agent/api/preferences", json={"indicator_style": "bubble",
                                                       "notify_sound": True,
                                                       "alert_in_focus": False})
    assert saved.status_code == 200
    assert saved.get_json()["preferences"] == {
        "indicator_style": "bubble", "effective_indicator_style": "bubble",
        "notify_desktop": False, "notify_sound": True, "alert_in_focus": False}
    assert 'data-style="bubble"' in alice.get("/my-work").get_data(as_text=True)
    for body, field in [({"indicator_style": "blink"}, "indicator_style"),
                        ({"notify_sound": "yes"}, "notify_sound"),
                        ({"alert_in_focus": 1}, "alert_in_focus"),
                        ({"theme": "dark"}, "theme")]:
        response = alice.post("/agent/api/preferences", json=body)
        assert response.status_code == 400 and response.get_json()["field"] == field
    back = alice.post("/agent/api/preferences", json={"indicator_style": "default"})
    assert back.get_json()["preferences"]["effective_indicator_style"] == "text"


def test_installation_default_indicator_style(app, desk):
    app.config["INDICATOR_STYLE"] = "bubble"
    client = signed_in(app, "bob")
    assert 'data-style="bubble"' in client.get("/").get_data(as_text=True)


def test_user_text_is_escaped_in_pages(alice, desk):
    result = new_chat("Hardware", "<script>alert(1)</script> help", name="<b>Mallory</b>")
    page = alice.get("/my-work").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert alice.get(f"/sr/{result.sr.number}").status_code == 200


def test_csrf_is_required_for_console_writes(database_url, desk):
    from app import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        login_page = client.get("/login").get_data(as_text=True)
        token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        assert client.post("/login", data={"username": "alice", "password": "demo",
                                           "csrf_token": token}).status_code == 302
        refused = client.post("/agent/api/preferences", json={"notify_sound": True})
        assert refused.status_code == 400
        console = client.get("/").get_data(as_text=True)
        meta = console.split('<meta name="csrf-token" content="')[1].split('"')[0]
        accepted = client.post("/agent/api/preferences", json={"notify_sound": True},
                               headers={"X-CSRFToken": meta})
        assert accepted.status_code == 200


def test_console_pages_need_a_login(client, desk):
    for path in ("/", "/my-work", "/sr/SR1001"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/agent/api/my-work").status_code == 401
    assert client.post("/agent/api/preferences", json={}).status_code == 401


def test_manager_may_open_any_sr_and_agents_only_theirs(app, desk):
    number = new_chat("Network", "Switch down").sr.number
    maria = signed_in(app, "maria")
    assert maria.get(f"/agent/api/sr/{number}").status_code == 200
    assert maria.get(f"/sr/{number}").status_code == 200
    alice = signed_in(app, "alice")
    page = alice.get(f"/sr/{number}")
    assert page.status_code == 403 and "belongs to a group you are not in" in page.get_data(
        as_text=True)
    assert alice.get("/sr/SR424242").status_code == 404


def test_my_work_costs_the_same_statements_for_3_or_12_srs(alice, desk):
    """The group, owner and end user of every row come with the rows, not one query each."""
    from flask import current_app

    from app.extensions import db
    from tests.support.sql import recorded

    def statements_for(path: str) -> int:
        # A context of its own, as a served request has: nothing an earlier request loaded
        # (session, g) is at hand.
        with current_app.app_context(), recorded(db.engine) as seen:
            assert alice.get(path).status_code == 200
        return len(seen)

    def request(queue: str, n: int) -> None:  # each from another end user
        chats.request_chat(name=f"User {n}", email=f"user{n}@example.com", queue=queue,
                           question="Printer offline")

    for n in range(3):
        request("Software", n)
    few = {path: statements_for(path) for path in ("/my-work?status=ALL",
                                                   "/agent/api/my-work?status=ALL")}
    for n in range(3, 12):
        request("Hardware", n)
    rows = alice.get("/agent/api/my-work?status=ALL").get_json()["service_requests"]
    assert len(rows) == 12 and {r["owner_group"] for r in rows} == {"Software", "Hardware"}
    assert {path: statements_for(path) for path in few} == few


def test_the_transfer_dialog_asks_whom_a_chat_can_be_handed_to(app, alice, desk):
    chat = new_chat("Software", "Teams crash").chat
    chats.accept_chat(chat.id, desk.alice)
    url = f"/agent/api/chats/{chat.id}/handover-agents"
    # bob has no console open: nobody can take it now.
    assert alice.get(url).get_json() == {"ok": True, "agents": []}
    assert app.test_client().get(url).status_code == 401  # no session
    with signed_in(app, "bob") as bob:  # not his chat
        refused = bob.get(url)
        assert (refused.status_code, refused.get_json()["error"]) == (403, "not_yours")
    assert alice.get("/agent/api/chats/999999/handover-agents").status_code == 404
