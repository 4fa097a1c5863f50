"""Logout, a password change, disabling a login and leaving a chat queue take effect at once
on the user's open sockets, and a cookie from before is refused (session and remember-me)."""

from __future__ import annotations

import os
import re
import time
import uuid

import pytest
import requests
import socketio

from tests.conftest import BACKENDS, seeded_database
from tests.realtime.peers import Peer, request_chat
from tests.support.server import LiveServer, wait_until

pytestmark = pytest.mark.live

REDIS_URL = os.environ.get("TEST_REDIS_URL")
AGENTS = {"carol": ["Software"], "dave": ["Software"], "erin": ["Software"],
          "frank": ["Software", "Hardware"]}


def desk_with_more_agents(kind: str, tmp) -> str:
    """The demo desk, plus agents of its own for each test (they log out, lose access…)."""
    from app import create_app
    from app.desk import people
    from app.extensions import db

    url = seeded_database(kind, tmp)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        for name, groups in AGENTS.items():
            people.create_user(name, "demo", display_name=f"{name.title()} Agent",
                               groups=groups, password_min_length=1)
        db.session.remove()
        db.engine.dispose()
    return url


@pytest.fixture(scope="module", params=BACKENDS)
def desk_server(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sessions")
    server = LiveServer(desk_with_more_agents(request.param, tmp),
                        env={"REALTIME_SWEEP_INTERVAL": "1"}, log_path=tmp / "server.log")
    server.start()
    yield server
    server.stop()


class Browser:
    """A person's browser over HTTP: logs in through the form, keeps its cookies."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()

    def login(self, username: str, password: str = "demo", remember: bool = False) -> Browser:
        form = self.http.get(f"{self.base_url}/login", timeout=10).text
        data = {"csrf_token": _csrf_input(form), "username": username, "password": password}
        if remember:
            data["remember"] = "y"
        reply = self.http.post(f"{self.base_url}/login", data=data, allow_redirects=False,
                               timeout=10)
        assert reply.status_code == 302, reply.status_code
        return self

    @property
    def cookie(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())

    def logout(self) -> None:
        page = self.http.get(f"{self.base_url}/my-work", timeout=10).text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        reply = self.http.post(f"{self.base_url}/logout", data={"csrf_token": token},
                               allow_redirects=False, timeout=10)
        assert reply.status_code == 302

    def post_admin_form(self, path: str, fields: dict) -> None:
        page = self.http.get(self.base_url + path, timeout=10).text
        form = page[page.index('class="admin-form'):]  # its own token, not the logout form's
        reply = self.http.post(self.base_url + path, data={"csrf_token": _csrf_input(form),
                                                           **fields}, timeout=10)
        assert reply.status_code == 200 and "alert-danger" not in reply.text, reply.text[:300]


def _csrf_input(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def opens_console(base_url: str, cookie: str) -> bool:
    reply = requests.get(f"{base_url}/my-work", headers={"Cookie": cookie},
                         allow_redirects=False, timeout=10)
    return reply.status_code == 200


def console(server, cookie: str, peers) -> Peer:
    return peers.track(Peer(server.url, ["/queue", "/chat"], headers={"Cookie": cookie},
                            reconnection=False).connect())


def dropped(peer: Peer, namespace: str) -> bool:
    return namespace not in peer.sio.namespaces


def account(server, username: str, column: str = "id") -> int:
    """A login's id (or another column of it), read from the server's database."""
    from app import create_app
    from app.extensions import db
    from app.models import User

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=server.database_url)
    with app.app_context():
        found = db.session.scalars(db.select(getattr(User, column))
                                   .where(User.username == username)).one()
        db.engine.dispose()
    return found


def signed_in_console(server, username: str, peers) -> tuple[Peer, str]:
    """An agent's console connected with a fresh login's cookie (and that cookie)."""
    cookie = Browser(server.url).login(username).cookie
    peer = console(server, cookie, peers)
    peer.wait("queue_state", "/queue")
    return peer, cookie


def assert_session_over(server, peer: Peer, old_cookie: str, reason: str) -> None:
    assert peer.wait("session_ended", "/queue")["reason"] == reason
    assert wait_until(lambda: dropped(peer, "/queue"), 5), "/queue socket still connected"
    # The /chat socket gets nothing more, is refused at once, and is dropped by the sweeper.
    if not dropped(peer, "/chat"):
        try:
            reply = peer.sio.call("history", {"chat_id": 1}, namespace="/chat", timeout=3)
        except socketio.exceptions.TimeoutError:
            # Dropped between the look and the question: no answer comes, which is also right.
            assert wait_until(lambda: dropped(peer, "/chat"), 5), "/chat neither answered nor dropped"
        else:
            assert reply["ok"] is False and reply["error"] == "unauthorized", reply
    assert wait_until(lambda: dropped(peer, "/chat"), 5), "/chat socket still connected"
    assert not opens_console(server.url, old_cookie)
    again = Peer(server.url, ["/queue"], headers={"Cookie": old_cookie}, reconnection=False)
    with pytest.raises(Exception):  # noqa: B017 - socketio's ConnectionError
        again.connect()
    assert again.connect_errors[-1]["data"]["error"] == "unauthorized"


def test_logout_ends_open_sockets_and_every_earlier_cookie(desk_server, peers):
    browser = Browser(desk_server.url).login("carol", remember=True)
    session_cookie = browser.cookie
    remember_only = "remember_token=" + browser.http.cookies["remember_token"]
    other_device = Browser(desk_server.url).login("carol").cookie
    carol = console(desk_server, session_cookie, peers)
    carol.wait("queue_state", "/queue")
    assert opens_console(desk_server.url, remember_only)  # the remember-me cookie alone works

    browser.logout()
    assert_session_over(desk_server, carol, session_cookie, "logged_out")
    assert not opens_console(desk_server.url, remember_only)
    assert not opens_console(desk_server.url, other_device)  # logout ends every session
    # Nothing more reaches the old sockets: a new chat is not announced to them.
    made = request_chat(desk_server.url, email=f"{uuid.uuid4().hex[:6]}@example.org")
    time.sleep(0.5)
    assert not carol.received("chat_waiting", "/queue", lambda c: c["chat_id"] == made["chat_id"])
    # Logging in again works as before.
    assert opens_console(desk_server.url, Browser(desk_server.url).login("carol").cookie)


def test_a_password_change_by_a_manager_ends_the_agents_sessions(desk_server, peers):
    dave, cookie = signed_in_console(desk_server, "dave", peers)
    maria = Browser(desk_server.url).login("maria")
    maria.post_admin_form(f"/admin/user/edit/?id={account(desk_server, 'dave')}",
                          {"role": "AGENT", "is_enabled": "y",
                           "new_password": "a brand new passphrase", "indicator_style": ""})
    assert_session_over(desk_server, dave, cookie, "password_changed")
    Browser(desk_server.url).login("dave", "a brand new passphrase")


def test_disabling_a_login_ends_its_sessions(desk_server, peers):
    erin, cookie = signed_in_console(desk_server, "erin", peers)
    maria = Browser(desk_server.url).login("maria")
    maria.post_admin_form(f"/admin/user/edit/?id={account(desk_server, 'erin')}",
                          {"role": "AGENT", "new_password": "", "indicator_style": ""})
    assert_session_over(desk_server, erin, cookie, "disabled")


def test_leaving_a_chat_queue_takes_effect_on_open_sockets_at_once(desk_server, peers):
    frank = console(desk_server, Browser(desk_server.url).login("frank").cookie, peers)
    frank.wait("queue_state", "/queue", lambda s: len(s["queues"]) == 2)
    remove_from_queue(Browser(desk_server.url).login("maria"), desk_server, "frank", "Software")
    state = frank.wait("queue_state", "/queue", lambda s: len(s["queues"]) == 1)
    assert [q["name"] for q in state["queues"]] == ["Hardware"]
    software_chat = request_chat(desk_server.url, queue="Software",
                                 email=f"{uuid.uuid4().hex[:6]}@example.org")
    hardware_chat = request_chat(desk_server.url, queue="Hardware",
                                 email=f"{uuid.uuid4().hex[:6]}@example.org")
    assert frank.wait("chat_waiting", "/queue")["chat_id"] == hardware_chat["chat_id"]
    assert not frank.received("chat_waiting", "/queue",
                              lambda c: c["chat_id"] == software_chat["chat_id"])
    listed = frank.call("waiting_list", {}, "/queue")["chats"]
    assert {c["queue"]["name"] for c in listed} == {"Hardware"}
    assert frank.call("accept", {"chat_id": software_chat["chat_id"]}, "/queue"
                      )["error"] == "not_your_queue"


def _group_id(browser: Browser, server, name: str) -> int:
    groups = browser.http.get(f"{server.url}/agent/api/groups", timeout=10).json()["groups"]
    return next(g["id"] for g in groups if g["name"] == name)


def remove_from_queue(manager: Browser, server, username: str, queue: str) -> None:
    """The manager takes an agent out of a chat queue in the admin's group form."""
    group = _group_id(manager, server, queue)
    members = [m for m in _member_ids(manager, server, group)
               if m != account(server, username, "person_id")]
    manager.post_admin_form(f"/admin/persongroup/edit/?id={group}",
                            {"name": queue, "description": "", "is_chat_queue": "y",
                             "greeting": "", "members": [str(m) for m in members]})


def _member_ids(browser: Browser, server, group_id: int) -> list[int]:
    """The members the group's edit form holds (a search-as-you-type field: their ids)."""
    page = browser.http.get(f"{server.url}/admin/persongroup/edit/?id={group_id}",
                            timeout=10).text
    field = re.search(r'<input[^>]*name="members"[^>]*>', page).group(0)
    value = re.search(r'value="([^"]*)"', field)
    return [int(v) for v in value.group(1).split(",") if v] if value else []


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set")
def test_logout_and_leaving_a_queue_reach_sockets_on_another_process(tmp_path, peers):
    url = desk_with_more_agents(BACKENDS[-1], tmp_path)
    env = {"SOCKETIO_MESSAGE_QUEUE": REDIS_URL, "REALTIME_SWEEP_INTERVAL": "1",
           "SOCKETIO_CHANNEL": f"sdc-test-{uuid.uuid4().hex}"}
    a = LiveServer(url, env=env, log_path=tmp_path / "a.log").start()
    b = LiveServer(url, env=env, log_path=tmp_path / "b.log").start()
    try:
        frank = console(a, Browser(a.url).login("frank").cookie, peers)
        frank.wait("queue_state", "/queue", lambda s: len(s["queues"]) == 2)
        # The manager works through process B.
        remove_from_queue(Browser(b.url).login("maria"), b, "frank", "Software")
        frank.wait("queue_state", "/queue", lambda s: len(s["queues"]) == 1)
        software_chat = request_chat(b.url, queue="Software", email="s@example.org")
        hardware_chat = request_chat(b.url, queue="Hardware", email="h@example.org")
        assert frank.wait("chat_waiting", "/queue")["chat_id"] == hardware_chat["chat_id"]
        assert not frank.received("chat_waiting", "/queue",
                                  lambda c: c["chat_id"] == software_chat["chat_id"])

        browser = Browser(b.url).login("carol")
        cookie = browser.cookie
        carol = console(a, cookie, peers)  # sockets on A, logout through B
        carol.wait("queue_state", "/queue")
        browser.logout()
        assert_session_over(a, carol, cookie, "logged_out")
    finally:
        a.stop()
        b.stop()
