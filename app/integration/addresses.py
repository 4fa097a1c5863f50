"""Where webhooks may go: http(s) URLs whose host resolves to public addresses only.

A webhook must not become a way into the desk's own network (its database, its metadata
service, an admin page on localhost). Private, loopback, link-local and other non-public
addresses are refused unless WEBHOOK_ALLOW_PRIVATE is set (the tests and the demo receive
on loopback). The check runs when a webhook is registered and again at every delivery, on
the addresses the name resolves to then, and the request goes to exactly the address that
was checked: a name that later resolves elsewhere cannot reach an internal address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

URL_MAX_LENGTH = 2000

Resolver = Callable[[str, int], list[str]]


class RefusedAddress(Exception):
    """The URL or one of its addresses is not allowed (the message says why)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (an address that was checked) and what to ask for."""

    scheme: str
    host: str  # as in the URL: the Host header and the TLS server name
    port: int
    address: str  # the checked IP address to connect to
    path: str  # path and query


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the name resolves to (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def parse(url: object) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL; RefusedAddress when it is not one."""
    if not isinstance(url, str) or not url.strip():
        raise RefusedAddress("Give the receiver's URL.")
    text = url.strip()
    if len(text) > URL_MAX_LENGTH:
        raise RefusedAddress(f"The URL is longer than {URL_MAX_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise RefusedAddress("The URL may not contain spaces or control characters.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise RefusedAddress(f"The URL is not valid: {exc}.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise RefusedAddress("Only http:// and https:// URLs can receive webhooks.")
    if not parts.hostname:
        raise RefusedAddress("The URL has no host name.")
    if parts.username is not None or parts.password is not None:
        raise RefusedAddress("Put no user name or password in the URL: the receiver checks "
                             "the signature made with the webhook's secret.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def refusal(address: str) -> str | None:
    """Why a webhook may not go to this address, or None when it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return f"{ip} is a loopback address"
    if ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast \
            or ip.is_unspecified or not ip.is_global:
        return f"{ip} is a private or reserved address"
    return None


def check(url: object, *, allow_private: bool, resolve: Resolver = system_resolver) -> Target:
    """The URL's target, checked now; RefusedAddress when it may not be reached."""
    scheme, host, port, path = parse(url)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise RefusedAddress(f"The name {host} cannot be resolved ({exc}).") from exc
    if not addresses:
        raise RefusedAddress(f"The name {host} resolves to no address.")
    if not allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason:
                raise RefusedAddress(f"{host} resolves to {address}: {reason}; webhooks go "
                                     "to public addresses only (WEBHOOK_ALLOW_PRIVATE).")
    return Target(scheme, host, port, addresses[0], path)
