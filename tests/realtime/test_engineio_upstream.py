"""A minimal reproduction, against python-engineio alone, of the hang the transport guard
(app/realtime/transport_guard.py) works around, kept to be reported upstream.

A long-polling POST whose Content-Length is over ``max_http_buffer_size`` makes
``Server.handle_request`` call ``disconnect`` → ``Socket.close(wait=True)`` →
``queue.join()``, which waits for a GET poll that never comes: the POST is never answered.
The test is expected to fail while the library has the bug; once it passes (strict xfail
turns that into a failure), the guard can go.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request

import engineio
import pytest
from werkzeug.serving import make_server

LIMIT = 1000


@pytest.fixture
def bare_engineio():
    eio = engineio.Server(async_mode="threading", max_http_buffer_size=LIMIT)
    httpd = make_server("127.0.0.1", 0, engineio.WSGIApp(eio), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()


@pytest.mark.xfail(strict=True, reason="python-engineio waits in queue.join() for a poll that "
                                       "never comes (reproduced up to 4.15.1)")
def test_oversized_polling_post_is_answered(bare_engineio):
    port = bare_engineio
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/engine.io/?EIO=4&transport=polling",
                                timeout=5) as reply:
        sid = json.loads(reply.read().decode()[1:])["sid"]
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(f"POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
                     f"Host: 127.0.0.1\r\nContent-Length: {LIMIT + 1}\r\n\r\n".encode()
                     + b"x" * (LIMIT + 1))
        try:
            answer = conn.recv(100)
        except TimeoutError:
            answer = b""
    assert answer.startswith(b"HTTP/1.1 400"), "no answer within 2 s"
