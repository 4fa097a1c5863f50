"""Who the end user is: a typed e-mail address claims nothing, a host site's signed identity
makes the chat verified and lets the end user chat about his open requests (over real HTTP
and sockets)."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
import requests

from tests.conftest import BACKENDS, seeded_database
from tests.realtime.peers import Peer, request_chat, visitor
from tests.support.accounts import cookie_header, http_session
from tests.support.server import LiveServer

pytestmark = pytest.mark.live

SECRET = "identity-secret-of-the-tests"


def identity_hash(email: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()


@pytest.fixture(scope="module", params=BACKENDS)
def desk_server(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("identity")
    server = LiveServer(seeded_database(request.param, tmp),
                        env={"WIDGET_IDENTITY_SECRET": SECRET}, log_path=tmp / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def alice(desk_server, peers):
    """Alice's console (Software and Hardware), and her HTTP session for the SR form's API."""
    session = http_session(desk_server.url, "alice")
    page = session.get(f"{desk_server.url}/my-work", timeout=10).text
    session.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"',
                                               page).group(1)
    console = peers.track(Peer(desk_server.url, ["/queue", "/chat"],
                               headers={"Cookie": cookie_header(session)}).connect())
    console.http = session
    return console


def post(server, path: str, body: dict) -> requests.Response:
    return requests.post(server.url + path, json=body, timeout=10)


def sr_of(alice, server, number: str) -> dict:
    return alice.http.get(f"{server.url}/agent/api/sr/{number}", timeout=10).json()["sr"]


def test_an_unverified_request_with_a_known_address_shows_only_what_was_typed(desk_server,
                                                                               alice):
    # maria@example.com is Maria Manager, phone +1 555 0103, in the desk's records.
    made = request_chat(desk_server.url, name="Mallory", email="maria@example.com", phone=None)
    waiting = alice.wait("chat_waiting", "/queue", lambda c: c["chat_id"] == made["chat_id"])
    assert waiting["end_user"] == {"name": "Mallory", "email": "maria@example.com",
                                   "phone": None, "verified": False}
    end_user = visitor(desk_server.url, made["visitor_token"])
    history = end_user.wait("history", "/chat")
    assert {m["sender"]["name"] for m in history["messages"]} == {"Mallory"}
    assert alice.call("accept", {"chat_id": made["chat_id"]}, "/queue")["chat"]["end_user"][
        "verified"] is False
    reported_by = sr_of(alice, desk_server, made["sr_number"])["reported_by"]
    assert (reported_by["name"], reported_by["phone"]) == ("Mallory", None)
    end_user.disconnect()
    # Another unverified request for the same address inherits nothing from this one either.
    again = request_chat(desk_server.url, name="Someone Else", email="maria@example.com")
    assert sr_of(alice, desk_server, again["sr_number"])["reported_by"]["name"] == \
        "Someone Else"


def test_a_wrong_identity_hash_is_refused(desk_server):
    body = {"name": "Erin", "email": "erin.employee@northwind.example", "queue": "Software",
            "question": "Hello"}
    for wrong in (identity_hash("other@northwind.example"), identity_hash(
            "erin.employee@northwind.example", "another-secret"), "", "zz", 42):
        reply = post(desk_server, "/api/chat-requests", {**body, "identity_hash": wrong})
        assert (reply.status_code, reply.json()["error"]) == (403, "not_verified"), wrong
        listed = post(desk_server, "/api/my-requests",
                      {"email": body["email"], "identity_hash": wrong})
        assert (listed.status_code, listed.json()["error"]) == (
            (400, "required") if wrong == "" else (403, "not_verified"))
    # An SR number without a verified identity is refused the same way.
    reply = post(desk_server, "/api/chat-requests", {**body, "sr_number": "SR1001"})
    assert (reply.status_code, reply.json()["error"]) == (403, "not_verified")


def test_a_verified_end_user_chats_about_his_open_request(desk_server, alice):
    email = "erin.employee@northwind.example"
    signed = {"email": email, "identity_hash": identity_hash(email)}
    first = request_chat(desk_server.url, name="Erin Employee", queue="Software",
                         question="My laptop will not dock", **signed)
    waiting = alice.wait("chat_waiting", "/queue", lambda c: c["chat_id"] == first["chat_id"])
    assert waiting["end_user"]["verified"] is True
    erin = visitor(desk_server.url, first["visitor_token"])
    assert erin.call("close", {"chat_id": first["chat_id"]})["ok"] is True
    erin.disconnect()

    listed = post(desk_server, "/api/my-requests", signed)
    assert listed.status_code == 200
    assert [r["number"] for r in listed.json()["requests"]] == [first["sr_number"]]
    assert listed.json()["requests"][0]["summary"] == "My laptop will not dock"

    second = request_chat(desk_server.url, name="Erin Employee", queue="Hardware",
                          question="Still not docking", sr_number=first["sr_number"], **signed)
    assert second["sr_number"] == first["sr_number"]  # no new SR
    assert [r["number"] for r in post(desk_server, "/api/my-requests", signed
                                      ).json()["requests"]] == [first["sr_number"]]
    accepted = alice.call("accept", {"chat_id": second["chat_id"]}, "/queue")
    assert accepted["chat"]["sr"]["number"] == first["sr_number"]
    assert accepted["chat"]["end_user"]["verified"] is True
    assert alice.call("close", {"chat_id": second["chat_id"]})["ok"] is True
    transcripts = sr_of(alice, desk_server, first["sr_number"])["transcripts"]
    assert len(transcripts) == 2 and "Still not docking" in transcripts[-1]["details"]


def test_someone_elses_or_a_closed_request_is_unknown(desk_server, alice):
    mine, theirs = "ivy@northwind.example", "jon@northwind.example"
    ivy = {"email": mine, "identity_hash": identity_hash(mine)}
    jon = {"email": theirs, "identity_hash": identity_hash(theirs)}
    jons = request_chat(desk_server.url, name="Jon", question="Jon's printer", **jon)
    ivys = request_chat(desk_server.url, name="Ivy", question="Ivy's phone", **ivy)
    sr = sr_of(alice, desk_server, ivys["sr_number"])
    saved = alice.http.post(f"{desk_server.url}/agent/api/sr/{ivys['sr_number']}", json={
        "version": sr["version"], "status": "CANCELLED", "memo": "Asked twice"}, timeout=10)
    assert saved.status_code == 200, saved.text
    for number in (jons["sr_number"], ivys["sr_number"], "SR999999", "nonsense"):
        reply = post(desk_server, "/api/chat-requests", {
            "name": "Ivy", "queue": "Software", "question": "About that", "sr_number": number,
            **ivy})
        assert (reply.status_code, reply.json()["error"]) == (404, "unknown_sr"), number
    assert post(desk_server, "/api/my-requests", ivy).json()["requests"] == []
