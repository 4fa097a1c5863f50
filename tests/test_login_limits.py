"""Password guessing over real HTTP: failed logins are limited per account and per address,
an unknown username and a wrong password get the same answer in the same time, and each
failure leaves an audit line (never the password)."""

from __future__ import annotations

import os
import re
import statistics
import time
import uuid

import pytest
import requests

from tests.conftest import seeded_database
from tests.support.server import LiveServer

pytestmark = pytest.mark.live

REDIS_URL = os.environ.get("TEST_REDIS_URL")
LENIENT = {"LOGIN_RATE_LIMIT_ACCOUNT": "1000 per minute",
           "LOGIN_RATE_LIMIT_ADDRESS": "1000 per minute"}


def start_server(tmp_path, name: str, *, url: str | None = None, **env) -> LiveServer:
    url = url or seeded_database("sqlite", tmp_path)
    server = LiveServer(url, env={"RATELIMIT_ENABLED": "true", **env},
                        log_path=tmp_path / f"{name}.log")
    return server.start()


def post_login(base_url: str, username: str, password: str) -> tuple[requests.Response, float]:
    """A browser's login: the form (for its CSRF token), then the POST, timed."""
    http = requests.Session()
    page = http.get(f"{base_url}/login", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    started = time.perf_counter()
    reply = http.post(f"{base_url}/login", data={"csrf_token": token, "username": username,
                                                 "password": password},
                      allow_redirects=False, timeout=30)
    return reply, time.perf_counter() - started


def flash_of(reply: requests.Response) -> str:
    match = re.search(r'class="flash flash-error"[^>]*>([^<]*)<', reply.text)
    return match.group(1) if match else ""


def test_failed_logins_are_limited_per_account_and_per_address(tmp_path):
    server = start_server(tmp_path, "strict")
    try:
        for _ in range(5):
            assert post_login(server.url, "alice", "guess")[0].status_code == 401
        refused, _ = post_login(server.url, "alice", "demo")  # the right password, too late
        assert refused.status_code == 429
        assert "Too many failed logins" in flash_of(refused)
        assert 0 < int(refused.headers["Retry-After"]) <= 61  # within the minute
        assert post_login(server.url, "bob", "demo")[0].status_code == 302  # others are not
        # An unknown username is limited the same way: the refusal tells nothing either.
        for _ in range(5):
            assert post_login(server.url, "nobody", "guess")[0].status_code == 401
        assert post_login(server.url, "nobody", "guess")[0].status_code == 429
        # Per address: 20 failures a minute, whatever the usernames.
        for number in range(10):
            assert post_login(server.url, f"name{number}", "guess")[0].status_code == 401
        assert post_login(server.url, "maria", "demo")[0].status_code == 429
    finally:
        server.stop()
    log = server.log_path.read_text()
    failures = re.findall(r"login failed: username='([^']*)' address=127\.0\.0\.1 "
                          r"reason=(\w+)", log)
    assert len(failures) == 20
    assert failures[0] == ("alice", "wrong_password")
    assert ("nobody", "unknown_user") in failures
    assert len(re.findall(r"login refused: .* reason=too_many_failures", log)) == 3
    assert "guess" not in log


def test_unknown_username_and_wrong_password_look_the_same(tmp_path):
    url = seeded_database("sqlite", tmp_path)
    rehash_with_production_cost(url)
    server = start_server(tmp_path, "timing", url=url, **LENIENT)
    try:
        post_login(server.url, "warm-up", "guess")
        wrong, unknown = [], []
        for _ in range(3):
            for name in ("alice", "bob", "maria"):
                wrong.append(post_login(server.url, name, "not-the-password"))
                unknown.append(post_login(server.url, f"no-{uuid.uuid4().hex[:8]}",
                                          "not-the-password"))
    finally:
        server.stop()
    for reply, _ in wrong + unknown:
        assert reply.status_code == 401
        assert flash_of(reply) == "Wrong username or password."
    ratio = statistics.median(t for _, t in unknown) / statistics.median(t for _, t in wrong)
    assert 0.5 < ratio < 2, f"unknown/wrong time ratio {ratio:.2f}"


def rehash_with_production_cost(url: str) -> None:
    """The demo's users hashed as production hashes (the suite uses a cheap method)."""
    from app import create_app
    from app.extensions import db
    from app.models import User

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, PASSWORD_HASH_METHOD="scrypt")
    with app.app_context():
        for user in db.session.scalars(db.select(User)):
            user.set_password("demo")
        db.session.commit()
        db.engine.dispose()


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set")
def test_the_limit_holds_across_server_processes(tmp_path):
    url = seeded_database("sqlite", tmp_path)
    shared = {"RATELIMIT_STORAGE_URI": REDIS_URL,
              "RATELIMIT_KEY_PREFIX": f"sdc-test-{uuid.uuid4().hex}"}
    first = start_server(tmp_path, "a", url=url, **shared)
    second = start_server(tmp_path, "b", url=url, **shared)
    try:
        for server in (first, second, first, second, first):
            assert post_login(server.url, "alice", "guess")[0].status_code == 401
        assert post_login(second.url, "alice", "demo")[0].status_code == 429
    finally:
        first.stop()
        second.stop()
