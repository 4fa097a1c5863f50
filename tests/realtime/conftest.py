"""Wire-test fixtures: agents and end users as real Socket.IO clients of a live server."""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS, seeded_database
from tests.realtime.node_visitor import NodeVisitor
from tests.realtime.peers import Peer, agent, visitor
from tests.support.server import LiveServer

# Generous enough for the bad-input tests, small enough that a flood trips it for sure.
EVENT_LIMITS = {"SOCKET_EVENT_BURST": "30", "SOCKET_EVENTS_PER_SECOND": "3",
                "SOCKET_HISTORY_BURST": "40", "SOCKET_HISTORY_PER_SECOND": "3"}
WIDGET_ORIGIN = "https://shop.example.com"


def _module_server(request, tmp_path_factory, env: dict) -> LiveServer:
    tmp = tmp_path_factory.mktemp("live")
    url = seeded_database(request.param, tmp)
    server = LiveServer(url, env=env, log_path=tmp / "server.log")
    server.start()
    request.addfinalizer(server.stop)
    return server


@pytest.fixture(scope="package", params=BACKENDS)
def server(request, tmp_path_factory):
    """One live server per backend shared by these tests (each test makes its own chats)."""
    return _module_server(request, tmp_path_factory,
                          {**EVENT_LIMITS, "WIDGET_ALLOWED_ORIGINS": WIDGET_ORIGIN})


@pytest.fixture(scope="package", params=BACKENDS)
def quick_timers_server(request, tmp_path_factory):
    """A live server whose abandon grace and idle time-out are a few seconds."""
    return _module_server(request, tmp_path_factory, {
        **EVENT_LIMITS, "CHAT_ABANDON_GRACE": "3", "CHAT_IDLE_TIMEOUT": "4"})


@pytest.fixture
def peers():
    """Connect peers through this; every one is disconnected at the end of the test."""
    made: list = []

    class Factory:
        def agent(self, server, username, **kwargs) -> Peer:
            made.append(agent(server.url, username, **kwargs))
            return made[-1]

        def visitor(self, server, token, **kwargs) -> Peer:
            made.append(visitor(server.url, token, **kwargs))
            return made[-1]

        def node_visitor(self, server, auth) -> NodeVisitor:
            made.append(NodeVisitor(server.url, auth))
            return made[-1]

        def track(self, peer):
            made.append(peer)
            return peer

    yield Factory()
    for peer in made:
        try:
            peer.close() if isinstance(peer, NodeVisitor) else peer.disconnect()
        except Exception:  # noqa: BLE001 - best effort
            pass
