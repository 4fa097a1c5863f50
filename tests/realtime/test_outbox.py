"""The bound on what waits for one connection, on Engine.IO's own server and socket (threading
mode): past it the connection is closed as a server disconnect and what waited is let go; a
connection whose client keeps reading is never dropped, however much goes through it."""

from __future__ import annotations

import engineio
from engineio import packet
from engineio.socket import Socket

from app.realtime import outbox

LIMIT = 10_000


def connection():
    server = engineio.Server(async_mode="threading")
    outbox.install(server, LIMIT)
    server.start_background_task = lambda target, *args: target(*args)  # at once, here
    left = []
    server.on("disconnect", lambda sid, reason: left.append((sid, reason)))
    socket = Socket(server, "sid-1")
    server.sockets["sid-1"] = socket
    return server, socket, left


def message(size: int) -> packet.Packet:
    return packet.Packet(packet.MESSAGE, data="x" * size)


def test_a_connection_whose_queue_passes_the_bound_is_closed_and_emptied():
    server, socket, left = connection()
    for _ in range(9):
        socket.send(message(1_000))
    assert left == [] and socket.queue.qsize() == 9
    socket.send(message(2_000))  # 11,000 bytes would wait
    assert left == [("sid-1", server.reason.SERVER_DISCONNECT)]
    assert socket.closed and "sid-1" not in server.sockets
    socket.queue.put(message(10))  # nothing more is kept for it
    assert socket.queue.qsize() == 1 and socket.queue.get_nowait() is None  # the writer's stop


def test_a_client_that_reads_is_never_dropped():
    _, socket, left = connection()
    for _ in range(100):  # ten times the bound, read as it comes
        socket.send(message(1_000))
        assert socket.poll()[0].data == "x" * 1_000
    assert left == [] and not socket.closed and socket.queue.waiting == 0
