"""The Socket.IO message queue (Redis) between server processes, made to tell what it lost.

python-socketio's Redis manager is at-most-once: a publish that fails twice is dropped with a
log line, and its listener resubscribes after an outage with a growing back-off. Every emit is
delivered to this process's own sockets before it is published, so chats within one process
keep flowing while Redis is down; what other processes missed is recovered by the clients
(docs/protocol.md, "Delivery"). This manager adds what they need:

- `subscribed`: False from the moment the listener loses Redis until it has subscribed again
  (the agents' indicators show the outage until then, not until the first PING answers);
- after a re-subscription, `resync` to every `/chat` socket of this process: each fetches
  what it missed from the database;
- `seen`: the highest message seq of each chat delivered to this process's sockets, which
  the periodic check compares with the database (`ChatNamespace.check_delivery`);
- a short, capped back-off (so catching up starts within a couple of seconds of Redis's
  return).
"""

from __future__ import annotations

import logging
import time

import socketio

from app.realtime.rooms import CHAT_NS

log = logging.getLogger(__name__)
RETRY_SECONDS = (0.5, 1.0, 2.0)


class SeenSeqs:
    """{chat id: highest seq delivered here} from the /chat emits of this process."""

    def __init__(self) -> None:
        self.seqs: dict[int, int] = {}

    def note(self, event: str, namespace: str | None, data) -> None:
        if namespace != CHAT_NS or not isinstance(data, dict):
            return
        if event == "message":
            seq, chat_id = data.get("seq"), data.get("chat_id")
        elif event == "history":
            seq, chat_id = data.get("last_seq"), data.get("chat_id")
        else:
            return
        if isinstance(seq, int) and isinstance(chat_id, int) and seq > self.seqs.get(chat_id, 0):
            self.seqs[chat_id] = seq

    def keep_only(self, chat_ids) -> None:
        keep = set(chat_ids)
        for chat_id in [c for c in self.seqs if c not in keep]:
            del self.seqs[chat_id]


class DeskRedisManager(socketio.RedisManager):
    def __init__(self, url: str, channel: str) -> None:
        super().__init__(url, channel=channel)
        self.seen = SeenSeqs()
        self.subscribed = False
        self.subscriptions = 0  # how many times the listener has (re)subscribed

    @property
    def lost(self) -> bool:
        """Subscribed once, and not any more (Redis is gone or the listener reconnects)."""
        return self.subscriptions > 0 and not self.subscribed

    def _handle_emit(self, message):
        data = message.get("data")
        if isinstance(data, list) and len(data) == 1:
            self.seen.note(message.get("event"), message.get("namespace"), data[0])
        return super()._handle_emit(message)

    def emit_here(self, event, data, namespace, room=None) -> None:
        """To this process's sockets only (not through the message queue)."""
        socketio.Manager.emit(self, event, data, namespace=namespace, room=room)

    def _redis_listen_with_retries(self):  # pragma: no cover - runs in the server process
        attempt = 0
        subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed = True
                    attempt = 0
                    self._subscribed()
                yield from self.pubsub.listen()
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect
                if self.subscribed:
                    log.error("message queue lost: %s; resubscribing", exc)
                self.subscribed = False
                subscribed = False
                time.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                attempt += 1

    def _subscribed(self) -> None:
        self.subscribed = True
        self.subscriptions += 1
        if self.subscriptions > 1:
            log.warning("message queue back: /chat clients of this process resynchronise")
            self.emit_here("resync", {"reason": "message_queue"}, CHAT_NS)


def redis_manager(url: str | None, channel: str) -> DeskRedisManager | None:
    """The manager for a Redis message queue; None for none (one process: nothing to lose
    between processes) or another kind (Flask-SocketIO's own manager)."""
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return DeskRedisManager(url, channel)
    return None
