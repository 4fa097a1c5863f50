"""Two server processes behind failover proxies (as nginx would route): the end user's widget
on one, the agent's console on the other, a Redis message queue between them. One process is
SIGKILLed mid-chat; the widget and the console recover without a reload, re-send what had no
acknowledgement, and show every message exactly once."""

from __future__ import annotations

import os
import socket
import threading
import uuid

import pytest
from playwright.sync_api import expect

from app.widget.demo_host import DemoHost
from tests.browser.conftest import login
from tests.browser.pages import Console, Widget
from tests.conftest import seeded_database
from tests.support.server import LiveServer, free_port
from tests.support.tcp import join

REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = [pytest.mark.fault,
              pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set")]
expect.set_options(timeout=20_000)


class FailoverProxy:
    """A TCP port that forwards each new connection to the first backend that accepts it."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        for port in self.backends:
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=2)
                upstream.settimeout(None)
                break
            except OSError:
                continue
        else:
            client.close()
            return
        join(client, upstream)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def two_process_desk(tmp_path):
    url = seeded_database("sqlite", tmp_path)
    ports = [free_port(), free_port()]
    proxies = [FailoverProxy(ports), FailoverProxy(ports[::-1])]  # widget -> A, console -> B
    site_port = free_port()
    env = {"SOCKETIO_MESSAGE_QUEUE": REDIS_URL,
           "SOCKETIO_CHANNEL": f"sdc-failover-{uuid.uuid4().hex}",
           "PRESENCE_HEARTBEAT": "1", "REALTIME_SWEEP_INTERVAL": "1",
           "WIDGET_ALLOWED_ORIGINS": f"http://127.0.0.1:{site_port}"}
    servers = [LiveServer(url, port=port, env=env, log_path=tmp_path / f"server-{n}.log")
               for n, port in enumerate(ports)]
    for server in servers:
        server.start()
    site = DemoHost(proxies[0].url, port=site_port).start()
    yield servers, proxies, site
    site.stop()
    for proxy in proxies:
        proxy.close()
    for server in servers:
        server.stop()


@pytest.mark.parametrize("killed", ["widget", "console"])
def test_widget_and_console_recover_from_a_killed_process_without_a_reload(
        two_process_desk, new_context, killed):
    servers, proxies, site = two_process_desk
    end_user = new_context().new_page()
    end_user.goto(site.url)
    widget = Widget(end_user).open()
    widget.request_chat(email=f"failover-{killed}@example.com")
    widget.sr_number()  # the chat is open
    chat_id = widget.stored_chat()["chatId"]

    agent = new_context().new_page()
    login(agent, proxies[1].url, "alice")
    agent.goto(proxies[1].url + "/#waiting")
    pane = Console(agent).accept(chat_id)
    expect(widget.root.locator(".log")).to_contain_text("Alice Agent has joined the chat.")

    widget.send("before the fault")
    pane.send("agent before the fault")
    expect(pane.messages().filter(has_text="before the fault")).to_have_count(2)

    servers[0 if killed == "widget" else 1].process.kill()
    # Typed while the process is gone and the page has not noticed or is reconnecting.
    widget.send("end user during the fault")
    pane.send("agent during the fault")
    widget.send("end user after the fault")
    pane.send("agent after the fault")

    said = ["before the fault", "agent before the fault", "end user during the fault",
            "agent during the fault", "end user after the fault", "agent after the fault"]
    for text in said:  # each exactly once, on both screens, with no reload
        expect(pane.messages().filter(has_text=text)).to_have_count(
            sum(text in other for other in said))
        expect(widget.bubbles().filter(has_text=text)).to_have_count(
            sum(text in other for other in said))
    expect(pane.root.locator(".msg[data-pending='true']")).to_have_count(0)
    expect(widget.root.locator(".msg.mine:not([data-id])")).to_have_count(0)
    expect(widget.root).to_have_attribute("data-connection", "online")
