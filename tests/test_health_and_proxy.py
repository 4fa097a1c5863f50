"""Probes for the load balancer, and the app behind one proxy hop (TRUSTED_PROXIES=1)."""

from __future__ import annotations

import pytest

from app import create_app, demo
from app.extensions import db
from tests.conftest import _empty_schema

pytestmark = pytest.mark.one_backend  # probes and proxy headers, whatever the database

UNREACHABLE_POSTGRES = "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2"
CHAT = {"name": "Erin End-User", "email": "erin@example.org", "queue": "Software",
        "question": "Help, please."}


def test_liveness_and_readiness(client):
    assert client.get("/healthz").get_json() == {"ok": True}
    assert client.get("/readyz").get_json() == {
        "ok": True, "database": "ok", "message_queue": "not configured"}


def test_not_ready_without_the_database_or_redis():
    from app.realtime import jobs

    application = create_app("testing", SQLALCHEMY_DATABASE_URI=UNREACHABLE_POSTGRES)
    # Set after creation: the Socket.IO server itself is not pointed at a dead Redis.
    application.config["SOCKETIO_MESSAGE_QUEUE"] = "redis://127.0.0.1:9/0"
    jobs._redis_clients.pop("redis://127.0.0.1:9/0", None)
    with application.test_client() as client:
        reply = client.get("/readyz")
        assert reply.status_code == 503
        assert reply.get_json() == {"ok": False, "database": "unreachable",
                                    "message_queue": "unreachable"}
        assert client.get("/healthz").status_code == 200  # alive all the same
        metrics = client.get("/metrics").get_data(as_text=True)
        assert 'desk_backend_up{backend="database"} 0.0' in metrics
        assert 'desk_backend_up{backend="redis"} 0.0' in metrics
        assert "desk_chats_waiting{" not in metrics
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def behind_proxy(database_url):
    """An app whose clients come through one proxy, with a chat-request limit of 2."""

    def make(hops: int):
        application = create_app(
            "testing", SQLALCHEMY_DATABASE_URI=database_url, TRUSTED_PROXIES=hops,
            RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
            CHAT_REQUEST_RATE_LIMIT="2 per minute")
        with application.app_context():
            _empty_schema(db)
            demo.seed_demo()
            db.session.remove()
        made.append(application)
        return application.test_client()

    made: list = []
    yield make
    for application in made:
        with application.app_context():
            db.engine.dispose()


def _ask(client, forwarded_for: str) -> int:
    return client.post("/api/chat-requests", json=CHAT,
                       headers={"X-Forwarded-For": forwarded_for}).status_code


def test_limits_count_the_address_the_proxy_saw(behind_proxy):
    client = behind_proxy(1)
    assert [_ask(client, "198.51.100.7") for _ in range(2)] == [201, 201]
    assert _ask(client, "198.51.100.7") == 429
    # A client's own X-Forwarded-For comes first; the proxy appends what it saw, which wins.
    assert _ask(client, "198.51.100.8, 198.51.100.7") == 429
    assert _ask(client, "198.51.100.8") == 201


def test_without_a_trusted_proxy_the_header_is_ignored(behind_proxy):
    client = behind_proxy(0)
    assert [_ask(client, f"198.51.100.{n}") for n in range(3)] == [201, 201, 429]


def _handshake(client, **headers) -> int:
    return client.get("/socket.io/?EIO=4&transport=polling", headers=headers).status_code


def test_socket_origin_check_sees_the_public_scheme_and_host(behind_proxy):
    public = {"Origin": "https://desk.example.com", "X-Forwarded-Proto": "https",
              "X-Forwarded-Host": "desk.example.com"}
    assert _handshake(behind_proxy(1), **public) == 200
    assert _handshake(behind_proxy(1), **{**public, "Origin": "https://evil.example"}) == 400
    assert _handshake(behind_proxy(0), **public) == 400  # the proxy's headers are not believed
