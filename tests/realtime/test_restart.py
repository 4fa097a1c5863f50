"""A server restart in the middle of a chat: both sides reconnect on their own, re-send what
was not acknowledged with the same client_id, and nothing is lost or doubled."""

from __future__ import annotations

import pytest
import socketio

from tests.realtime.peers import Peer, request_chat

pytestmark = pytest.mark.live


class Outbox:
    """What a well-behaved client does: keep each message until it is acknowledged."""

    def __init__(self, peer, chat_id: int, prefix: str) -> None:
        self.peer, self.chat_id, self.prefix = peer, chat_id, prefix
        self.pending: dict[str, str] = {}
        self.acked: dict[str, dict] = {}
        self.count = 0

    def send(self, body: str, *, wait: bool = True) -> None:
        self.count += 1
        cid = f"{self.prefix}-{self.count}"
        self.pending[cid] = body
        if wait:
            self.flush()
        else:  # fire and forget: the ack may never come back
            self.peer.sio.emit("send", {"chat_id": self.chat_id, "body": body, "client_id": cid},
                               namespace="/chat", callback=lambda *ack: None)

    def flush(self) -> None:
        for cid, body in list(self.pending.items()):
            try:
                ack = self.peer.sio.call("send", {"chat_id": self.chat_id, "body": body,
                                                  "client_id": cid},
                                         namespace="/chat", timeout=3)
            except (socketio.exceptions.SocketIOError, OSError):
                return  # not connected: keep it for later
            assert ack["ok"] is True, ack
            self.acked[cid] = ack["message"]
            del self.pending[cid]


def test_restart_mid_chat_loses_and_doubles_nothing(live_server, peers):
    alice = peers.agent(live_server, "alice")
    made = request_chat(live_server.url)
    chat_id = made["chat_id"]
    seen_ids = [0]

    def erin_auth():  # evaluated at every (re)connection, like `socket.auth` in the browser
        return {"visitor_token": made["visitor_token"], "last_message_id": max(seen_ids)}

    erin = peers.track(Peer(live_server.url, ["/chat"], auth=erin_auth).connect())
    seen_ids.extend(m["id"] for m in erin.wait("history", "/chat")["messages"])
    assert alice.call("accept", {"chat_id": chat_id}, "/queue")["ok"] is True
    seen_ids.append(erin.wait("message", "/chat")["id"])  # the greeting

    erin_out = Outbox(erin, chat_id, "erin")
    alice_out = Outbox(alice, chat_id, "alice")
    erin_out.send("before the restart")
    seen_ids.extend(m["id"] for m in erin_out.acked.values())
    erin_out.send("in flight when the server stops", wait=False)
    live_server.stop()

    erin_out.send("typed while the server was down")
    alice_out.send("agent typed while down")
    erin_out.send("typed while down, again")
    assert len(erin_out.pending) >= 2 and len(alice_out.pending) == 1

    live_server.start()
    erin.wait_connected(20)
    alice.wait_connected(20)
    erin_out.flush()
    alice_out.flush()
    assert not erin_out.pending and not alice_out.pending

    # The reconnected end user got only what came after his last message...
    reconnect_history = erin.received("history", "/chat")[-1]
    assert all(m["id"] > max(seen_ids) for m in reconnect_history["messages"])
    # ... and the stored conversation has each message exactly once, in the order typed.
    stored = alice.call("history", {"chat_id": chat_id})["messages"]
    erin_bodies = [m["body"] for m in stored if m["client_id"].startswith("erin-")]
    assert erin_bodies == ["before the restart", "in flight when the server stops",
                           "typed while the server was down", "typed while down, again"]
    assert [m["body"] for m in stored if m["client_id"].startswith("alice-")] == [
        "agent typed while down"]
    assert len({m["client_id"] for m in stored}) == len(stored)
    # The live chat goes on after the restart.
    alice_out.send("Thanks for waiting.")
    assert erin.wait("message", "/chat", lambda m: m["body"] == "Thanks for waiting.")
