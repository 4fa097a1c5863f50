"""The REST API through real HTTP: a live server (python wsgi.py) on the demo desk, with a
personal API token for alice (agent of Hardware and Software), bob (Software and Network)
and maria (manager), and a few chats and SRs made through the desk."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import requests
from sqlalchemy import select

from tests.conftest import BACKENDS, seeded_database
from tests.support.server import LiveServer

TIMEOUT = 10


@dataclass
class ApiDesk:
    url: str
    app: object
    tokens: dict[str, str]
    facts: dict = field(default_factory=dict)

    def get(self, path: str, who: str = "alice", **kwargs) -> requests.Response:
        return self.call("GET", path, who, **kwargs)

    def call(self, method: str, path: str, who: str | None = "alice", *,
             headers: dict | None = None, **kwargs) -> requests.Response:
        sent = dict(headers or {})
        if who is not None:
            sent.setdefault("Authorization", f"Bearer {self.tokens[who]}")
        return requests.request(method, f"{self.url}/api/v1{path}", headers=sent,
                                timeout=TIMEOUT, **kwargs)

    def run(self, fn):
        """Run a desk call in the test process, on the server's database."""
        from app.extensions import db

        with self.app.app_context():
            try:
                return fn()
            finally:
                db.session.remove()


def _user(name):
    from app.extensions import db
    from app.models import User

    return db.session.scalars(select(User).where(User.username == name)).one()


def _story(facts: dict) -> None:
    """Chats in Hardware (accepted by alice, with messages) and Network (waiting), and an
    SR queued to Network only."""
    from app.desk import api_tokens, chats, people
    from app.desk import requests as sr_rules
    from app.desk.chats import Sender
    from app.models import SenderRole

    alice, maria = _user("alice"), _user("maria")
    hardware = chats.request_chat(name="Hal Hardware", email="hal@example.com",
                                  queue="Hardware", question="Laptop fan is loud")
    chats.accept_chat(hardware.chat.id, alice)
    for n in range(5):
        chats.post_message(hardware.chat.id, Sender(SenderRole.VISITOR, "Hal Hardware"),
                           f"visitor {n}", f"v{n}")
    network = chats.request_chat(name="Nina Network", email="nina@example.com",
                                 queue="Network", question="VPN drops every hour")
    sr = sr_rules.open_service_request(
        summary="Switch in room 4 blinks", reported_by=maria.person,
        owner_group=people.get_group_by_name("Network"), actor=maria)
    facts.update(hardware_chat=hardware.chat.id, hardware_sr=hardware.sr.number,
                 network_chat=network.chat.id, network_sr=network.sr.number,
                 switch_sr=sr.number, nina=network.chat.visitor_id,
                 hal=hardware.chat.visitor_id)
    facts["revoked"] = api_tokens.create_api_token(alice, "old script").secret
    api_tokens.revoke_api_token(alice, api_tokens.list_api_tokens(alice)[0].id)
    carl = people.create_user("carl", "a-long-enough-password", display_name="Carl Left",
                              groups=["Hardware"])
    facts["disabled"] = api_tokens.create_api_token(carl, "his script").secret
    people.update_account(carl.id, actor=maria, is_enabled=False)


@pytest.fixture(scope="package", params=BACKENDS)
def api_desk(request, tmp_path_factory):
    from app import create_app
    from app.desk import api_tokens

    tmp = tmp_path_factory.mktemp("api")
    url = seeded_database(request.param, tmp)
    application = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    desk = ApiDesk(url="", app=application, tokens={})

    def prepare():
        for name in ("alice", "bob", "maria"):
            desk.tokens[name] = api_tokens.create_api_token(_user(name), f"{name}'s script").secret
        _story(desk.facts)

    desk.run(prepare)
    server = LiveServer(url, log_path=tmp / "server.log").start()
    request.addfinalizer(server.stop)
    desk.url = server.url
    yield desk
    with application.app_context():
        from app.extensions import db

        db.engine.dispose()
