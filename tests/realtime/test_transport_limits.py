"""Packets over the size limit are refused at once, over long-polling and WebSocket alike.

A long-polling POST that announces more than the limit is answered 413 before Engine.IO
reads it (Engine.IO itself would wait for ever for a poll that never comes: see
app/realtime/transport_guard.py), its session is closed, and the server goes on serving.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests
import websocket

MAX_HTTP_BUFFER_SIZE = 64 * 1024  # the server's max_http_buffer_size (app/__init__.py)

pytestmark = pytest.mark.live


def polling_session(server) -> str:
    reply = requests.get(f"{server.url}/socket.io/?EIO=4&transport=polling", timeout=5)
    assert reply.status_code == 200
    return json.loads(reply.text[1:])["sid"]


def raw_post(server, path: str, headers: str, body: bytes, timeout: float = 3.0) -> bytes:
    """Send a hand-made POST and return what the server answers within `timeout` seconds."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as conn:
        conn.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode()
                     + body)
        try:
            return conn.recv(4096)
        except TimeoutError:
            return b""


def test_polling_post_announcing_too_much_is_answered_at_once_and_closes_its_session(server):
    sid = polling_session(server)
    started = time.monotonic()
    answer = raw_post(server, f"/socket.io/?EIO=4&transport=polling&sid={sid}",
                      f"Content-Type: text/plain\r\nContent-Length: {MAX_HTTP_BUFFER_SIZE + 1}\r\n",
                      b"x" * 200)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80] or "no answer within 3 s"
    assert time.monotonic() - started < 2
    # The session is gone: its next poll gets the close packet or is told it is unknown.
    poll = requests.get(f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}",
                        timeout=5)
    assert poll.status_code == 400 or poll.text.endswith("1"), poll.text
    assert requests.get(f"{server.url}/healthz", timeout=5).ok


def test_many_oversized_posts_leave_the_server_serving(server):
    answers = [raw_post(server, f"/socket.io/?EIO=4&transport=polling&sid={polling_session(server)}",
                        "Content-Length: 70000\r\n", b"4" * 200) for _ in range(20)]
    assert all(answer.startswith(b"HTTP/1.1 413") for answer in answers)
    assert requests.get(f"{server.url}/healthz", timeout=5).ok


def test_a_content_length_that_is_no_number_is_refused(server):
    sid = polling_session(server)
    answer = raw_post(server, f"/socket.io/?EIO=4&transport=polling&sid={sid}",
                      "Content-Length: -5\r\n", b"")
    assert answer.split(b" ")[1:2] == [b"400"], answer[:80] or "no answer within 3 s"


def test_a_polling_post_within_the_limit_still_works(server):
    sid = polling_session(server)
    reply = requests.post(f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}",
                          data="40", timeout=5)  # Socket.IO CONNECT to the main namespace
    assert reply.status_code == 200 and reply.text == "OK"


def test_websocket_frame_over_the_limit_closes_the_connection(server):
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket", timeout=5)
    try:
        assert ws.recv().startswith("0")  # Engine.IO OPEN
        ws.send("4" + "x" * (MAX_HTTP_BUFFER_SIZE + 1))
        deadline = time.monotonic() + 5
        closed = False
        while time.monotonic() < deadline and not closed:
            try:
                frame = ws.recv()
                closed = frame in ("", None)
            except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
                closed = True
        assert closed, "the connection stayed open"
    finally:
        ws.close()
    assert requests.get(f"{server.url}/healthz", timeout=5).ok
