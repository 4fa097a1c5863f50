"""CPU-heavy work on a file's bytes, off the server's event loop.

Under eventlet (and gevent) one OS thread runs every request and every socket of a process:
a 12-megapixel photo read, thumbnailed and written again without its metadata holds it for
about a second, and every chat on the process waits that long for its next message
(`bench/upload_stall.py` measures it). The server (`wsgi.py`) installs its async library's
pool of real threads here; Pillow and hashlib let go of the interpreter lock while they
work, so the loop goes on serving meanwhile. Without a server (the CLI, tests, the threading
mode, where each request has a thread of its own) the work runs where it is called.

The work handed over must be pure: bytes in, bytes out, no database session, no app context.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, has_app_context

R = TypeVar("R")
Runner = Callable[..., object]
_EXTENSION = "file_work_threads"


def install(app: Flask, runner: Runner) -> None:
    """`runner(fn, *args)` runs fn(*args) in a real thread and waits for it cooperatively."""
    app.extensions[_EXTENSION] = runner


def has_pool(app: Flask) -> bool:
    """Whether the server installed a pool of real threads for this app."""
    return _EXTENSION in app.extensions


def run(fn: Callable[..., R], *args: object) -> R:
    """fn(*args) in a real thread when the server installed a pool, else here; its
    exceptions are raised here either way."""
    runner = current_app.extensions.get(_EXTENSION) if has_app_context() else None
    if runner is None:
        return fn(*args)
    return runner(fn, *args)  # type: ignore[return-value]
