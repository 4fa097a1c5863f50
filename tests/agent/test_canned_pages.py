"""Canned responses over HTTP: the agent's own page, a chat's `/` list, the admin's queue
responses with their live preview."""

from __future__ import annotations

from sqlalchemy import select

from app.desk import canned, chats
from app.extensions import db
from app.models import CannedResponse
from tests.agent.conftest import new_chat
from tests.support.accounts import signed_in


def own(user_id):
    return list(db.session.scalars(select(CannedResponse).where(
        CannedResponse.owner_id == user_id)))


def test_agent_adds_edits_and_deletes_his_own_responses(alice, desk):
    page = alice.get("/settings/canned-responses").get_data(as_text=True)
    assert "My canned responses" in page and "data-canned-preview" in page
    response = alice.post("/settings/canned-responses", data={
        "title": "Greeting", "shortcut": "hi", "language": "", "body": "Hi {end_user_name}!"})
    assert response.status_code == 302
    [row] = own(desk.alice.id)
    assert (row.shortcut, row.body) == ("hi", "Hi {end_user_name}!")
    alice.post("/settings/canned-responses", data={
        "id": row.id, "title": "Greeting", "shortcut": "hello", "language": "de",
        "body": "Hallo {end_user_name}!"})
    db.session.expire_all()
    assert (row.shortcut, row.language) == ("hello", "de")
    alice.post(f"/settings/canned-responses/{row.id}/delete")
    assert own(desk.alice.id) == []


def test_agent_page_refuses_an_unknown_placeholder_and_keeps_what_he_typed(alice, desk):
    response = alice.post("/settings/canned-responses", data={
        "title": "Greeting", "shortcut": "hi", "language": "", "body": "Hi {customer}!"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Unknown placeholder {customer}" in page
    assert "Hi {customer}!</textarea>" in page
    assert own(desk.alice.id) == []


def test_another_agents_response_cannot_be_changed_or_deleted(alice, app, desk):
    mine = canned.save_response(desk.alice, title="T", shortcut="mine", body="Alice's")
    bob = signed_in(app, "bob")
    assert bob.post("/settings/canned-responses", data={
        "id": mine.id, "title": "T", "shortcut": "mine", "body": "Bob's"}).status_code == 403
    assert bob.post(f"/settings/canned-responses/{mine.id}/delete").status_code == 403
    db.session.expire_all()
    assert db.session.get(CannedResponse, mine.id).body == "Alice's"


def test_the_chat_list_is_filled_in_and_only_for_chats_the_agent_may_read(alice, app, desk):
    canned.save_response(desk.maria, queue=desk.hardware.id, title="Boot", shortcut="boot",
                         body="{end_user_name}, hold the power button ({sr_number}).")
    chat = chats.accept_chat(new_chat("Hardware").chat.id, desk.alice)
    data = alice.get(f"/agent/api/chats/{chat.id}/canned-responses").get_json()
    assert data["responses"] == [{
        "id": data["responses"][0]["id"], "shortcut": "boot", "title": "Boot",
        "language": None, "scope": "queue",
        "text": f"Eve End-User, hold the power button ({chat.service_request.number})."}]
    bob = signed_in(app, "bob")  # Software and Network: not Hardware
    assert bob.get(f"/agent/api/chats/{chat.id}/canned-responses").status_code == 403


def test_manager_keeps_queue_responses_in_the_admin(app, desk):
    maria = signed_in(app, "maria")
    form = maria.get("/admin/cannedresponse/new/").get_data(as_text=True)
    assert "data-canned-preview" in form and "canned-preview.js" in form
    maria.post("/admin/cannedresponse/new/", data={
        "queue": desk.network.id, "title": "VPN", "shortcut": "vpn", "language": "",
        "body": "Restart the VPN client, {end_user_name}."})
    refused = maria.post("/admin/cannedresponse/new/", data={
        "queue": desk.network.id, "title": "VPN", "shortcut": "vpn", "language": "",
        "body": "Another"}, follow_redirects=True).get_data(as_text=True)
    assert "The shortcut /vpn is already used in this queue." in refused
    unknown = maria.post("/admin/cannedresponse/new/", data={
        "queue": desk.network.id, "title": "X", "shortcut": "x", "language": "",
        "body": "Hi {name}"}, follow_redirects=True).get_data(as_text=True)
    assert "Unknown placeholder {name}" in unknown
    rows = list(db.session.scalars(select(CannedResponse)))
    assert [(r.queue_id, r.shortcut) for r in rows] == [(desk.network.id, "vpn")]
    listing = maria.get("/admin/cannedresponse/").get_data(as_text=True)
    assert "/vpn" in listing and "Restart the VPN client" in listing
    assert signed_in(app, "alice").get("/admin/cannedresponse/").status_code == 403


def test_agents_own_responses_stay_out_of_the_admin_list(app, desk):
    mine = canned.save_response(desk.alice, title="Private", shortcut="private", body="Mine")
    maria = signed_in(app, "maria")
    assert "Private" not in maria.get("/admin/cannedresponse/").get_data(as_text=True)
    assert maria.get(f"/admin/cannedresponse/edit/?id={mine.id}").status_code == 302
