"""One signed POST to a webhook's receiver, with a time-out, to the address just checked.

Headers (documented in the README, with how to verify them):

- ``X-Desk-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>``
- ``X-Desk-Timestamp``: when this try was sent (Unix seconds), and
  ``X-Desk-Timestamp-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>``,
  so a receiver can refuse an old request replayed to it;
- ``X-Desk-Delivery``: this delivery's id (the same on every try), ``X-Desk-Event``.

The body's ``id`` names the event (the same for every webhook): receivers de-duplicate by it.
Redirects are never followed (a 3xx is a failure that says where it pointed), so a receiver
cannot send the desk on to an address that was not checked.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from app.integration.addresses import RefusedAddress, Resolver, Target, check, system_resolver
from app.outbox.sender import DeliveryError

USER_AGENT = "ServiceDeskChat-Webhook/1"
RESPONSE_EXCERPT = 300  # characters of a failing receiver's answer kept in the last error


def signature(secret: str, payload: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Request:
    """One delivery, read from the outbox: no database is needed to send it."""

    webhook_id: int
    url: str
    secret: str
    delivery_id: str
    event: str
    body: bytes
    order_key: str = ""  # the chat or SR whose events stay in order


def headers(request: Request, timestamp: int) -> dict[str, str]:
    stamp = str(timestamp)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Desk-Event": request.event,
        "X-Desk-Delivery": request.delivery_id,
        "X-Desk-Timestamp": stamp,
        "X-Desk-Signature": signature(request.secret, request.body),
        "X-Desk-Timestamp-Signature": signature(request.secret,
                                                stamp.encode() + b"." + request.body),
    }


def post(request: Request, *, timeout: float, allow_private: bool,
         resolve: Resolver = system_resolver) -> int:
    """POST the delivery; its HTTP status when 2xx, else DeliveryError.

    A receiver that cannot be reached (refused, time-out, a refused address) pauses the
    webhook's other deliveries until the next pass: they would wait for the same time-out.
    """
    try:
        target = check(request.url, allow_private=allow_private, resolve=resolve)
    except RefusedAddress as exc:
        raise DeliveryError(f"Not sent: {exc}", pause=request.webhook_id) from exc
    connection = _connection(target, timeout)
    try:
        connection.request("POST", target.path, body=request.body,
                           headers=headers(request, int(time.time())))
        response = connection.getresponse()
        status = response.status
        excerpt = response.read(RESPONSE_EXCERPT).decode("utf-8", "replace")
        location = response.getheader("Location")
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        raise DeliveryError(f"{target.host}:{target.port}: {_describe(exc)}",
                            pause=request.webhook_id) from exc
    finally:
        connection.close()
    if 200 <= status < 300:
        return status
    if 300 <= status < 400:
        message = (f"The receiver answered {status} and pointed to {location or 'nowhere'}: "
                   "redirects are not followed; register the final URL.")
    else:
        message = f"The receiver answered {status}: {' '.join(excerpt.split())[:200]}".rstrip(": ")
    raise DeliveryError(message, values={"response_code": status})


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    """A connection to the checked address (never a new look-up of the name); TLS is
    verified against the name in the URL."""
    if target.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def connect_to_checked_address(address, timeout=timeout, source_address=None):  # noqa: ANN001
        return socket.create_connection((target.address, target.port), timeout, source_address)

    connection._create_connection = connect_to_checked_address
    return connection


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "no answer within the time-out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
