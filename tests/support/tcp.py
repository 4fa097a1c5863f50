"""Byte pipes for the test relays that stand between clients and server processes."""

from __future__ import annotations

import socket
import threading


def pipe(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes from `source` to `target` until either side ends, then end both."""
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def join(client: socket.socket, upstream: socket.socket) -> None:
    """Pipe both ways between two connected sockets, each way in a thread of its own."""
    for source, target in ((client, upstream), (upstream, client)):
        threading.Thread(target=pipe, args=(source, target), daemon=True).start()
