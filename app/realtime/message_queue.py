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
    """{chat id: n} such that every message 1..n of the chat reached this process (by a
    /chat `message` emit, or a `history` whose client catches up by itself), from the emits
    this process delivers. Only a gap-free prefix counts: a chat's messages from another
    process may be lost while later ones from this process arrive."""

    def __init__(self) -> None:
        self.seqs: dict[int, int] = {}
        self._above: dict[int, set[int]] = {}  # seqs seen beyond the gap-free prefix

    def note(self, event: str, namespace: str | None, data) -> None:
        if namespace != CHAT_NS or not isinstance(data, dict):
            return
        chat_id = data.get("chat_id")
        if not isinstance(chat_id, int):
            return
        if event == "history" and isinstance(data.get("last_seq"), int):
            self.reached(chat_id, data["last_seq"])
        elif event == "message" and isinstance(data.get("seq"), int):
            above = self._above.setdefault(chat_id, set())
            above.add(data["seq"])
            self.reached(chat_id, self.seqs.get(chat_id, 0))

    def reached(self, chat_id: int, seq: int) -> None:
        """Every message up to `seq` counts as delivered here."""
        upto = max(self.seqs.get(chat_id, 0), seq)
        above = self._above.get(chat_id, set())
        while upto + 1 in above:
            upto += 1
        self._above[chat_id] = {n for n in above if n > upto}
        self.seqs[chat_id] = upto

    def keep_only(self, chat_ids) -> None:
        keep = set(chat_ids)
        for chat_id in [c for c in self.seqs if c not in keep]:
            del self.seqs[chat_id]
            self._above.pop(chat_id, None)


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
