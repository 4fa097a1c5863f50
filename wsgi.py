"""Production entry point: ``python wsgi.py`` (or ``python -m wsgi``, or
``service-desk-chat serve`` once installed) serves the app with Socket.IO.

The async server is Flask-SocketIO's ``async_mode`` (``ASYNC_MODE``: eventlet by default,
gevent or threading). Monkey patching happens here and only here, before anything else is
imported, so the CLI and the tests never patch.
"""

import gc
import os
import sys

_RUN_AS_SERVER = __name__ == "__main__"
ASYNC_MODE = os.environ.get("ASYNC_MODE", "eventlet")

if _RUN_AS_SERVER and ASYNC_MODE == "eventlet":
    os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")
    # psycopg 3 only knows gevent's patching: select-based waiting yields to eventlet.
    os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
    import eventlet

    eventlet.monkey_patch()
elif _RUN_AS_SERVER and ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()

from app import create_app  # noqa: E402
from app.config import UnsafeConfiguration  # noqa: E402
from app.extensions import socketio  # noqa: E402

try:
    app = create_app(os.environ.get("APP_ENV", "production" if _RUN_AS_SERVER else "development"))
except UnsafeConfiguration as exc:
    if not _RUN_AS_SERVER:
        raise
    sys.exit(f"Refusing to start: {exc}")


def main() -> None:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    if os.environ.get("AUTO_MIGRATE", "").lower() in {"1", "true", "yes"}:
        from flask_migrate import upgrade

        with app.app_context():
            upgrade()
    from app import realtime

    install_thread_pool(app.config["ASYNC_MODE"])
    realtime.start_background_jobs(app)
    freeze_startup_objects()
    print(f"Service Desk Chat on http://{host}:{port}/  (async mode: {app.config['ASYNC_MODE']})",
          flush=True)
    kwargs = {"host": host, "port": port, "use_reloader": False, "log_output": False}
    if app.config["ASYNC_MODE"] == "eventlet":
        # eventlet's WSGI server holds 1,024 connections by default: far too few for widgets.
        return serve_eventlet(host, port, int(os.environ.get("MAX_CONNECTIONS", "10000")))
    if app.config["ASYNC_MODE"] == "threading":
        kwargs["allow_unsafe_werkzeug"] = True
    socketio.run(app, **kwargs)


def freeze_startup_objects() -> None:
    """Take what the start-up built (modules, the app, its mappers and templates: ~190,000
    objects) out of the garbage collector's sight. Python's full collection walks every
    tracked object, ~80 ms for those alone, with the event loop held: every chat of the
    process would stall each time. Frozen, they are never scanned (they live as long as the
    process anyway), and a full collection only walks what the traffic created."""
    gc.collect()
    gc.freeze()


def install_thread_pool(async_mode: str) -> None:
    """Image work runs in real threads (`app.files.threads`): eventlet's and gevent's own
    pools hand the result back to the waiting green thread without blocking the loop."""
    from app.files import threads

    if async_mode == "eventlet":
        from eventlet import tpool

        threads.install(app, tpool.execute)
    elif async_mode == "gevent":
        import gevent

        threads.install(app, lambda fn, *args: gevent.get_hub().threadpool.apply(fn, args))


def serve_eventlet(host: str, port: int, max_size: int) -> None:
    """What ``socketio.run`` does under eventlet, with TCP_NODELAY on the connections and
    WebSocket frames unmasked in C (app/realtime/websocket_mask.py).

    eventlet writes a response of more than 16 KB in two parts; with Nagle's algorithm the
    second waits for the client's delayed ACK, ~40 ms added to every such page (measured:
    56 ms -> 13 ms for an SR's edit screen). Accepted sockets inherit the option.
    """
    import socket

    import eventlet.wsgi

    from app.realtime import websocket_mask

    websocket_mask.install()
    family, *_, address = socket.getaddrinfo(host, port)[0]
    listener = eventlet.listen(address, family)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    eventlet.wsgi.server(listener, app, log_output=False, max_size=max_size)


def console() -> None:
    """The ``service-desk-chat`` command of the installed package: ``serve`` starts the server,
    the rest is this app's Flask CLI (``db upgrade``, ``seed-demo``, ``create-user``, ...).

    Serving re-executes the interpreter as ``python -m wsgi`` so that the async library's
    monkey patching comes before every other import, as it must.
    """
    import click
    from flask.cli import FlaskGroup, routes_command, shell_command

    @click.command("serve", help="Serve the app with Socket.IO (HOST, PORT, ... from the "
                                 "environment), as `python -m wsgi` does.")
    def serve() -> None:
        os.execv(sys.executable, [sys.executable, "-m", "wsgi"])

    group = FlaskGroup(create_app=lambda: app, add_default_commands=False,
                       help="Service Desk Chat: serve it, migrate its database, manage it.")
    for command in (serve, shell_command, routes_command):
        group.add_command(command)
    group.main(prog_name="service-desk-chat")


if _RUN_AS_SERVER:
    sys.exit(main())
