"""A WSGI guard in front of Engine.IO: long-polling POSTs over the size limit are refused at once.

python-engineio answers such a POST by closing the session and *waiting* for the client's
next poll to take the close packet (``Socket.close(wait=True)`` → ``queue.join()``). A client
that never polls again (any script: a 200-byte request claiming ``Content-Length: 70000`` is
enough) gets no answer, and its request keeps a green thread and a file descriptor for good;
a few thousand of them exhaust the server. Up to python-engineio 4.15.1 (the newest release
when this was written) the library does this; ``tests/realtime/test_engineio_upstream.py`` keeps a
minimal reproduction against the bare library, so the guard can go once it is fixed there.

The guard answers before Engine.IO sees the request: 413 for a body over the limit, 400 for
a ``Content-Length`` that is not a number, and closes the session without waiting, as
Engine.IO meant to. WebSocket frames over the limit are not concerned: Engine.IO closes those
connections itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs

log = logging.getLogger(__name__)


class PollingBodyGuard:
    """WSGI middleware for the Socket.IO path: refuse long-polling bodies over `limit` bytes."""

    def __init__(self, wsgi_app: Callable, engineio_server: object, limit: int,
                 path: str = "/socket.io") -> None:
        self.wsgi_app = wsgi_app
        self.eio = engineio_server
        self.limit = int(limit)
        self.path = "/" + path.strip("/")

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and self._is_engineio(environ):
            refusal = self._refusal(environ.get("CONTENT_LENGTH"))
            if refusal is not None:
                return self._refuse(environ, start_response, *refusal)
        return self.wsgi_app(environ, start_response)

    def _is_engineio(self, environ: dict) -> bool:
        path = environ.get("PATH_INFO") or "/"
        return path == self.path or path.startswith(self.path + "/")

    def _refusal(self, raw: str | None) -> tuple[str, str] | None:
        if raw in (None, ""):
            return None  # no body (Engine.IO reads none)
        if not raw.isdigit():
            return "400 Bad Request", "Invalid Content-Length."
        if int(raw) > self.limit:
            return "413 Content Too Large", "The request body is too large."
        return None

    def _refuse(self, environ: dict, start_response: Callable, status: str, text: str
                ) -> list[bytes]:
        sid = (parse_qs(environ.get("QUERY_STRING", "")).get("sid") or [""])[0]
        log.warning("refused an Engine.IO POST (%s, Content-Length %.20r) from %s",
                    status[:3], environ.get("CONTENT_LENGTH"), environ.get("REMOTE_ADDR"))
        self._close_session(sid)
        _skip_unread_body(environ)
        body = text.encode()
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                                ("Content-Length", str(len(body))),
                                ("Connection", "close")])
        return [body]

    def _close_session(self, sid: str) -> None:
        """Close the Engine.IO session the POST belongs to, without waiting for a poll."""
        sockets = getattr(self.eio, "sockets", {})
        socket = sockets.get(sid) if sid else None
        if socket is None:
            return
        try:
            socket.close(wait=False)
        except Exception:  # noqa: BLE001 - the refusal must be answered whatever happens
            log.exception("closing Engine.IO session %s failed", sid)
        sockets.pop(sid, None)


def _skip_unread_body(environ: dict) -> None:
    """Tell the server not to read the refused body before the next request.

    Servers drain an unread body to keep the connection alive; eventlet does so even after a
    ``Connection: close`` answer, and would wait for ever for the bytes a client only
    announced. Its input object then counts as read to the end.
    """
    stream = environ.get("eventlet.input")
    if stream is not None and hasattr(stream, "position"):
        stream.content_length = stream.position
