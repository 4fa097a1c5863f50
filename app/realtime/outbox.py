"""A bound on what waits to be sent to one client, so that a client that stops reading cannot
grow the server's memory.

Engine.IO keeps one queue of outgoing packets per connection, emptied by the connection's
writer (WebSocket) or by the client's polls (long-polling). A client that stops reading (its
TCP window full, a poll that never comes) leaves everything sent to it in that queue until
Engine.IO's ping time-out drops it, 20 s or more later, however much arrives meanwhile: a busy
chat, or the history pages the same client keeps asking for. Here each connection's queue
counts the bytes waiting in it; past `SOCKET_OUTBOX_MAX_BYTES` the connection is dropped at
once and its queue emptied. The documented clients reconnect and fetch what they miss by seq
(docs/protocol.md, *Delivery*), so nothing is lost for a client that comes back.

What the writer already took from the queue (at most one queue's worth, in the middle of a
send the client does not read) is freed when that send fails: Engine.IO gives the connection's
socket a time-out of ping interval + ping time-out.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

# A packet whose payload is not text or bytes (Engine.IO's own OPEN packet, a dict).
SMALL_PACKET = 64


def packet_size(item: object) -> int:
    data = getattr(item, "data", None)
    return len(data) if isinstance(data, str | bytes) else SMALL_PACKET


class _Outbox:
    """Mixed into the async mode's queue class (eventlet's, gevent's or the standard one)."""

    server = None  # the Engine.IO server
    limit = 0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.waiting = 0  # bytes put and not yet taken by the writer or a poll
        self.overflowed = False

    def put(self, item, *args, **kwargs):
        if item is not None:  # None wakes the writer up to stop: always let through
            if self.overflowed:
                return None
            size = packet_size(item)
            if self.waiting + size > self.limit:
                self.overflowed = True
                self.server.start_background_task(self._drop_connection, self.waiting + size)
                return None
            self.waiting += size
        return super().put(item, *args, **kwargs)

    def get(self, *args, **kwargs):
        item = super().get(*args, **kwargs)
        if item is not None:
            self.waiting = max(0, self.waiting - packet_size(item))
        return item

    def _drop_connection(self, size: int) -> None:
        """Empty the queue, then close its connection as the server's own disconnect (its
        Socket.IO namespaces see the client leave, its rooms no longer include it)."""
        empty = self.server.get_queue_empty_exception()
        while True:
            try:
                super().get(block=False)
            except empty:
                break
            self.task_done()
        self.waiting = 0
        for sid, socket in list(self.server.sockets.items()):
            if socket.queue is self:
                log.warning("dropped a client that stops reading: %d bytes waiting for it, "
                            "over SOCKET_OUTBOX_MAX_BYTES (%d)", size, self.limit,
                            extra={"kind": "socket", "event": "outbox_full", "sid": sid})
                socket.close(wait=False, abort=True,
                             reason=self.server.reason.SERVER_DISCONNECT)
                self.server.sockets.pop(sid, None)
                return


def install(engineio_server, limit: int) -> None:
    """Give each new connection of this Engine.IO server a queue bounded at `limit` bytes."""
    base = engineio_server._async["queue"]
    bounded = type("Outbox", (_Outbox, base), {"server": engineio_server, "limit": int(limit)})
    engineio_server.create_queue = lambda *args, **kwargs: bounded(*args, **kwargs)
