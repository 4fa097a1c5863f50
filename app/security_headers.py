"""Security headers on every response, and a nonce for the few inline scripts left.

Pages (the console, the admin, the login) get a strict Content-Security-Policy: scripts only
from this site or with the request's nonce (Flask-Admin's own inline scripts carry it; the
desk's templates have none), no plugins, no ``<base>`` tricks, forms posting here only, and
no framing by any site (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``: nobody can
click-jack Accept or a bulk change). Every response says ``nosniff`` and keeps its address to
this site (``Referrer-Policy``). The widget's script and ``/api/*`` are loaded by other sites;
none of these headers stands in their way (they carry no page, and CORS is theirs).

A small module rather than Flask-Talisman: the policy differs by screen (the admin's widgets
need inline style attributes), Flask-Admin brings its own nonce hook, and HTTPS is the proxy's
business here (Talisman's redirects and HSTS would be switched off again).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable

from flask import Flask, Response, current_app, g, request

_STYLES = "'self'"
# Inline style attributes: Flask-Admin's templates and its select widgets use them.
_ADMIN_STYLES = "'self' 'unsafe-inline'"


def csp_nonce() -> str:
    """This request's script nonce (templates: ``<script nonce="{{ csp_nonce() }}">``)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def allow_inline_handlers(app: Flask, handlers: Iterable[str]) -> None:
    """Let these exact inline event handlers run on admin pages ('unsafe-hashes').

    Flask-Admin's list templates bind their bulk actions and filter menus with ``onclick``
    attributes, which no nonce covers. Only the texts registered here, fixed when the app is
    built, are allowed: a handler injected into a page matches none of them.
    """
    hashes = app.extensions.setdefault("csp_handler_hashes", set())
    for text in handlers:
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        hashes.add(f"'sha256-{digest}'")


def content_security_policy(nonce: str, *, admin: bool, handler_hashes: Iterable[str] = ()
                            ) -> str:
    scripts = f"'self' 'nonce-{nonce}'"
    if admin and handler_hashes:
        scripts += " 'unsafe-hashes' " + " ".join(sorted(handler_hashes))
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        f"style-src {_ADMIN_STYLES if admin else _STYLES}",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        admin = request.path == "/admin" or request.path.startswith("/admin/")
        hashes = current_app.extensions.get("csp_handler_hashes", ())
        headers.setdefault("Content-Security-Policy",
                           content_security_policy(csp_nonce(), admin=admin,
                                                   handler_hashes=hashes))
        headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:  # over https (behind a proxy: with TRUSTED_PROXIES)
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_add_headers)
