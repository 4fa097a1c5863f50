"""Wire-test fixtures: agents and end users as real Socket.IO clients of a live server."""

from __future__ import annotations

import pytest

from tests.realtime.node_visitor import NodeVisitor
from tests.realtime.peers import Peer, agent, visitor


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

    yield Factory()
    for peer in made:
        try:
            peer.close() if isinstance(peer, NodeVisitor) else peer.disconnect()
        except Exception:  # noqa: BLE001 - best effort
            pass
