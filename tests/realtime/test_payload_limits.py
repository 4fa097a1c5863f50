"""Payloads nested too deeply and floods spread over several sockets are refused like any
other bad input: an error acknowledgement, nothing stored, no traceback in the log."""

from __future__ import annotations

import json

import pytest
import requests
import websocket

from tests.realtime.conftest import EVENT_LIMITS
from tests.realtime.peers import request_chat

pytestmark = pytest.mark.live

BURST = int(EVENT_LIMITS["SOCKET_EVENT_BURST"])
HISTORY_BURST = int(EVENT_LIMITS["SOCKET_HISTORY_BURST"])


class RawSocket:
    """A Socket.IO client written by hand over WebSocket, to send what libraries would not."""

    def __init__(self, server, namespace: str, auth: dict) -> None:
        self.namespace = namespace
        self.ws = websocket.create_connection(
            f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket", timeout=10)
        assert self.ws.recv().startswith("0")  # Engine.IO OPEN
        self.ws.send(f"40{namespace}," + json.dumps(auth))
        self.next_id = 1
        self.received: list[str] = []
        assert self._until(lambda text: text.startswith(f"40{namespace},")), "not connected"

    def _until(self, match) -> str:
        while True:
            text = self.ws.recv()
            if text == "2":  # Engine.IO PING
                self.ws.send("3")
                continue
            self.received.append(text)
            if match(text):
                return text

    def call_raw(self, event: str, raw_arguments: str) -> dict:
        """Emit `event` with arguments given as raw JSON text; returns the acknowledgement."""
        ack_id, self.next_id = self.next_id, self.next_id + 1
        self.ws.send(f"42{self.namespace},{ack_id}[{json.dumps(event)},{raw_arguments}]")
        prefix = f"43{self.namespace},{ack_id}"
        text = self._until(lambda t: t.startswith(prefix))
        return json.loads(text[len(prefix):])[0]

    def close(self) -> None:
        self.ws.close()


def test_a_deeply_nested_payload_gets_an_invalid_ack_and_the_socket_stays(server):
    made = request_chat(server.url, email="deep@example.org")
    raw = RawSocket(server, "/chat", {"visitor_token": made["visitor_token"]})
    try:
        for depth in (40, 20_000):  # 40 KB: under the packet size limit
            reply = raw.call_raw("send", "[" * depth + "]" * depth)
            assert reply["ok"] is False and reply["error"] == "invalid", reply
            nested = "[" * depth + "]" * depth
            nested_body = f'{{"chat_id": {made["chat_id"]}, "client_id": "d", "body": {nested}}}'
            assert raw.call_raw("send", nested_body)["error"] == "invalid"
        history = raw.call_raw("history", json.dumps({"chat_id": made["chat_id"]}))
        assert history["ok"] is True and len(history["messages"]) == 1
    finally:
        raw.close()
    # A connection whose auth is nested too deeply is refused as malformed.
    refused = websocket.create_connection(
        f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket", timeout=10)
    try:
        refused.recv()
        refused.send('40/chat,{"visitor_token": ' + "[" * 20_000 + "]" * 20_000 + "}")
        answer = refused.recv()
        assert answer.startswith("44/chat,") and '"invalid"' in answer, answer[:200]
    finally:
        refused.close()
    log = server.log_path.read_text(errors="replace")
    assert "RecursionError" not in log


def test_a_deeply_nested_http_body_is_refused_as_invalid(server):
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/api/chat-requests", "/api/chat-requests?x=1"):
        reply = requests.post(server.url + path, data=deep, timeout=10,
                              headers={"Content-Type": "application/json"})
        assert reply.status_code == 400 and reply.json()["error"] == "invalid"
    body = {"name": "N", "email": "n@example.org", "queue": "Software",
            "question": json.loads("[" * 20 + "]" * 20)}
    reply = requests.post(server.url + "/api/chat-requests", data=json.dumps(body)
                          .replace("[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]",
                                   "[" * 40 + "]" * 40), timeout=10,
                          headers={"Content-Type": "application/json"})
    assert reply.status_code == 400 and reply.json()["error"] == "invalid"


def flood(sockets, chat_ids, rounds: int, event: str = "typing") -> int:
    """`rounds` calls of `event` from each socket, interleaved; how many were served."""
    served = 0
    for _ in range(rounds):
        for raw, chat_id in zip(sockets, chat_ids, strict=True):
            payload = {"chat_id": chat_id, "typing": False} if event == "typing" else {
                "chat_id": chat_id}
            reply = raw.call_raw(event, json.dumps(payload))
            if reply["ok"]:
                served += 1
            else:
                assert reply["error"] == "rate_limited", reply
    return served


@pytest.mark.parametrize("event, burst", [("typing", BURST), ("history", HISTORY_BURST)])
def test_several_sockets_of_one_end_user_share_one_event_budget(server, event, burst):
    first = request_chat(server.url, email=f"many-tabs-{event}@example.org")
    second = request_chat(server.url, email=f"many-tabs-{event}@example.org")
    sockets = [RawSocket(server, "/chat", {"visitor_token": made["visitor_token"]})
               for made in (first, first, first, second)]
    try:
        served = flood(sockets, [first["chat_id"]] * 3 + [second["chat_id"]], burst, event)
    finally:
        for raw in sockets:
            raw.close()
    # One budget (the burst, plus what refills during the flood), not one per socket; history
    # pages have a budget of their own, shared the same way.
    assert burst <= served < 1.5 * burst, served
