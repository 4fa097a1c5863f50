"""POST /api/chat-requests: validation naming the field, visitor token, CORS, rate limit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import create_app, demo
from app.desk.tokens import chat_for_visitor_token
from app.extensions import db
from app.models import Chat, ChatStatus, ServiceRequest

GOOD = {"name": "Erin End-User", "email": "erin@example.org", "phone": "+1 555 0199",
        "queue": "Software", "question": "My printer is offline."}
SHOP = "https://shop.example.com"


def counts():
    return (db.session.scalar(select(func.count(Chat.id))),
            db.session.scalar(select(func.count(ServiceRequest.id))))


def test_chat_request_opens_sr_and_returns_a_token_for_that_chat(app, desk, client):
    reply = client.post("/api/chat-requests", json=GOOD)
    assert reply.status_code == 201
    body = reply.get_json()
    assert set(body) == {"chat_id", "sr_number", "visitor_token", "queue", "position",
                         "agents_online", "agents_available", "token_expires_in"}
    assert body["queue"] == {"id": desk.software.id, "name": "Software"}
    assert body["position"] == 1 and body["agents_online"] == 0
    assert body["agents_available"] == 0
    chat = chat_for_visitor_token(app.config["SECRET_KEY"], body["visitor_token"])
    assert chat.id == body["chat_id"] and chat.status == ChatStatus.WAITING
    assert chat.service_request.number == body["sr_number"]
    second = client.post("/api/chat-requests", json={**GOOD, "email": "sam@example.org"})
    assert second.get_json()["position"] == 2


BAD_REQUESTS = [
    ({k: v for k, v in GOOD.items() if k != "name"}, "required", "name"),
    ({**GOOD, "email": "not-an-address"}, "invalid", "email"),
    ({**GOOD, "email": ""}, "required", "email"),
    ({**GOOD, "queue": "Gardening"}, "unknown_queue", "queue"),
    ({**GOOD, "queue": ["Software"]}, "unknown_queue", "queue"),
    ({**GOOD, "question": "   "}, "required", "question"),
    ({**GOOD, "question": "x" * 4001}, "too_long", "question"),
    ({**GOOD, "name": 42}, "invalid", "name"),
    ({**GOOD, "phone": "<script>"}, "invalid", "phone"),
    ({**GOOD, "is_admin": True}, "unknown_field", "is_admin"),
]


def test_bad_chat_requests_name_the_field_and_change_nothing(desk, client):
    before = counts()
    for payload, code, field in BAD_REQUESTS:
        reply = client.post("/api/chat-requests", json=payload)
        assert reply.status_code == 400, payload
        body = reply.get_json()
        assert (body["error"], body["field"]) == (code, field), payload
        assert body["ok"] is False and body["message"]
    for raw in (b"not json", b"[1, 2]", b'"text"', b""):
        reply = client.post("/api/chat-requests", data=raw, content_type="application/json")
        assert reply.status_code == 400 and reply.get_json()["error"] == "invalid", raw
    assert counts() == before


@pytest.fixture
def production_like(database_url):
    """Rate limit and CSRF on, one widget origin allowed (the testing config turns them off)."""
    application = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url,
                             RATELIMIT_ENABLED=True, WTF_CSRF_ENABLED=True,
                             CHAT_REQUEST_RATE_LIMIT="3 per minute",
                             WIDGET_ALLOWED_ORIGINS=[SHOP])
    with application.app_context():
        db.drop_all()
        db.create_all()
        demo.seed_demo()
        db.session.remove()
    yield application
    with application.app_context():
        db.drop_all()
        db.engine.dispose()


def test_too_many_requests_from_one_address_get_429_without_csrf(production_like):
    client = production_like.test_client()
    codes = [client.post("/api/chat-requests", json={**GOOD, "email": f"u{n}@example.org"},
                         environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code
             for n in range(4)]
    assert codes == [201, 201, 201, 429]  # no CSRF token needed: the widget has no cookies
    refused = client.post("/api/chat-requests", json=GOOD,
                          environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert refused.get_json()["error"] == "rate_limited"
    other = client.post("/api/chat-requests", json=GOOD,
                        environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert other.status_code == 201
    with production_like.app_context():
        assert db.session.scalar(select(func.count(Chat.id))) == 4


def test_cors_allows_only_the_configured_widget_origins(production_like):
    client = production_like.test_client()
    preflight = client.options("/api/chat-requests", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.headers.get("Access-Control-Allow-Origin") == SHOP
    assert "POST" in preflight.headers.get("Access-Control-Allow-Methods", "")
    allowed = client.post("/api/chat-requests", json=GOOD, headers={"Origin": SHOP})
    assert allowed.headers.get("Access-Control-Allow-Origin") == SHOP
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    evil = client.post("/api/chat-requests", json={**GOOD, "email": "x@example.org"},
                       headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in evil.headers
    evil_preflight = client.options("/api/chat-requests", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in evil_preflight.headers
