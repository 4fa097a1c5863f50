"""Browser libraries installed by npm (package.json) and served by the app itself.

Installations are often offline, so nothing is loaded from a CDN. Only the files listed here
are reachable.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, abort, send_from_directory

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
FILES = {
    "socket.io.min.js": "socket.io-client/dist/socket.io.min.js",
    "socket.io.esm.min.js": "socket.io-client/dist/socket.io.esm.min.js",
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
}

bp = Blueprint("vendor", __name__)


@bp.get("/vendor/<name>")
def vendor_file(name: str):
    relative = FILES.get(name)
    if relative is None or not (NODE_MODULES / relative).is_file():
        abort(404)
    response = send_from_directory(NODE_MODULES, relative, max_age=86400)
    response.headers["Access-Control-Allow-Origin"] = "*"  # public library code
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
