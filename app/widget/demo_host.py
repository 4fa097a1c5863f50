"""A customer's web page on another origin that embeds the widget with one script tag.

    python app/widget/demo_host.py --port 5001 --server http://127.0.0.1:5000 \
        --identity-secret "$WIDGET_IDENTITY_SECRET"

It is a separate tiny WSGI app (standard library only, so it starts at once as a plain
script without importing the desk), and the widget really runs
cross-origin, as on a customer's site. Query parameters override the tag's data attributes
(``?queue=Software``, ``?lang=de``, ``?color=%230f766e``) to show the settings;
``?csp=strict`` serves the page under a strict Content-Security-Policy; ``?plain=1`` embeds
the bare tag (no data attributes).

The page shows both kinds of visitor: anonymous (``/``), and an employee signed in to the
intranet (``/?user=erin``), whom the page's back end vouches for with the identity hash of the
widget's embedding guide, so that his chats are verified and he can chat about his open
requests.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import os
import threading
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

DEFAULT_TOPICS = ("Laptop, printer or phone=Hardware; Applications and accounts=Software; "
                  "VPN, Wi-Fi and network drives=Network")
SETTINGS = ("queue", "topics", "color", "greeting", "lang", "title", "position")
# The intranet's signed-in employee (``?user=erin``).
EMPLOYEE = {"name": "Erin Employee", "email": "erin.employee@northwind.example"}


def identity_hash(secret: str, email: str) -> str:
    """What the host site's back end computes for a signed-in user (see the widget's guide)."""
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Northwind Traders · IT help</title>
<style>
  body {{ margin: 0; font-family: Georgia, "Times New Roman", serif; color: #2d2a26;
         background: #faf7f2; }}
  header {{ background: #20324a; color: #fff; padding: 18px 32px; display: flex;
           align-items: center; gap: 14px; }}
  header b {{ font-size: 20px; letter-spacing: .5px; }}
  .account {{ margin-left: auto; font-size: 14px; color: #cfd8e3; }}
  .account a {{ color: #fff; margin-left: 10px; }}
  nav a {{ color: #cfd8e3; margin-right: 18px; text-decoration: none; font-size: 15px; }}
  main {{ max-width: 760px; margin: 40px auto; padding: 0 24px; }}
  h1 {{ font-size: 34px; margin: 0 0 12px; }}
  .card {{ background: #fff; border: 1px solid #e8e1d6; border-radius: 6px; padding: 18px 22px;
          margin: 18px 0; }}
  /* Deliberately hostile host styles: the widget must not be affected. */
  button {{ background: #ff0 !important; font-family: "Comic Sans MS", cursive; }}
  p {{ font-size: 18px; line-height: 1.7; }}
</style>
</head>
<body>
<header><b>Northwind Traders</b><nav><a href="#">Intranet</a><a href="#">People</a>
<a href="#">IT help</a></nav>{account}</header>
<main>
  <h1>IT help</h1>
  <p>Before you call: most questions about laptops, e-mail, accounts and the VPN are answered
  fastest in a chat with the service desk. Use the chat button in the corner of this page.</p>
  <div class="card"><p><strong>Office hours</strong><br>Monday to Friday, 8:00 to 18:00.
  Outside these hours your request is kept and answered by e-mail.</p></div>
  <div class="card"><p><strong>Planned maintenance</strong><br>The VPN gateway restarts on
  Saturday at 22:00 for about ten minutes.</p></div>
  <p><button type="button">A host-page button</button></p>
</main>
<script src="{src}"{attributes} async></script>
</body>
</html>
"""


def render_page(server_url: str, settings: dict[str, str],
                identity: dict[str, str] | None = None) -> str:
    """The page; with `identity` (name, email, hash) the widget's visitor is verified."""
    chosen = {name: value for name, value in settings.items() if name in SETTINGS and value}
    if identity:
        chosen.update({f"identity-{key}": identity[key] for key in ("email", "name", "hash")})
        account = (f'<span class="account" id="account">Signed in as '
                   f'{html.escape(identity["name"])}<a href="/">Sign out</a></span>')
    else:
        account = ('<span class="account" id="account">Not signed in'
                   '<a href="/?user=erin">Sign in as Erin Employee</a></span>')
    attributes = "".join(f' data-{name}="{html.escape(value, quote=True)}"'
                         for name, value in chosen.items())
    src = html.escape(server_url.rstrip("/") + "/widget.js", quote=True)
    return PAGE.format(src=src, attributes=attributes, account=account)


def strict_policy(server_url: str) -> str:
    """A locked-down customer site (``?csp=strict``): only the chat server may run or connect,
    and no inline style is allowed (the page's own styles go; the widget's must not)."""
    server = server_url.rstrip("/")
    socket = "ws" + server[len("http"):]
    return (f"default-src 'none'; script-src {server}; connect-src {server} {socket}; "
            "style-src 'none'; img-src 'none'; base-uri 'none'; form-action 'none'")


def make_app(server_url: str, defaults: dict[str, str] | None = None,
             identity_secret: str | None = None):
    """The WSGI app: ``/`` is the customer page (``?user=erin``: signed in); else 404."""
    base = dict(defaults or {"topics": DEFAULT_TOPICS})

    def application(environ, start_response):
        if environ.get("PATH_INFO", "/") not in ("/", "/index.html"):
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Not found"]
        query = parse_qs(environ.get("QUERY_STRING", ""))
        settings = {} if query.get("plain") == ["1"] else dict(base)  # ?plain=1: the bare tag
        for name in SETTINGS:
            if name in query:
                settings[name] = query[name][0]
        if "queue" in query:
            settings.pop("topics", None)
        identity = None
        if query.get("user") == ["erin"] and identity_secret:
            identity = dict(EMPLOYEE, hash=identity_hash(identity_secret, EMPLOYEE["email"]))
        body = render_page(server_url, settings, identity).encode("utf-8")
        headers = [("Content-Type", "text/html; charset=utf-8"),
                   ("Content-Length", str(len(body))), ("Cache-Control", "no-store")]
        if query.get("csp") == ["strict"]:
            headers.append(("Content-Security-Policy", strict_policy(server_url)))
        start_response("200 OK", headers)
        return [body]

    return application


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        return None


class DemoHost:
    """The demo host in a background thread (tests, scripts): start(), url, stop()."""

    def __init__(self, server_url: str, *, host: str = "127.0.0.1", port: int = 0,
                 defaults: dict[str, str] | None = None,
                 identity_secret: str | None = None) -> None:
        self.httpd = make_server(host, port, make_app(server_url, defaults, identity_secret),
                                 server_class=_ThreadingServer, handler_class=_QuietHandler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> DemoHost:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the demo customer page with the widget.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--server", default="http://127.0.0.1:5000",
                        help="the chat server's URL (where /widget.js is served)")
    parser.add_argument("--identity-secret", default=os.environ.get("WIDGET_IDENTITY_SECRET"),
                        help="the desk's WIDGET_IDENTITY_SECRET, to sign in /?user=erin")
    args = parser.parse_args(argv)
    httpd = make_server(args.host, args.port,
                        make_app(args.server, identity_secret=args.identity_secret),
                        server_class=_ThreadingServer, handler_class=_QuietHandler)
    print(f"Demo customer page on http://{args.host}:{args.port}/ (widget from {args.server})",
          flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
