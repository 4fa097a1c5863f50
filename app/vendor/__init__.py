"""Browser libraries shipped inside the package and served by the app itself.

Installations are often offline, so nothing is loaded from a CDN, and installing the app needs
no npm: the files in ``files/`` are copies of the pinned npm releases (package.json), with the
licences of every package bundled into them in ``licenses/`` and their versions in
``versions.json``. ``scripts/update-vendor.sh`` refreshes all three. Only the files listed
here are reachable.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, abort, send_from_directory

FOLDER = Path(__file__).resolve().parent / "files"
FILES = frozenset({"socket.io.min.js", "socket.io.esm.min.js", "chart.umd.min.js",
                   "swagger-ui-bundle.js", "swagger-ui.css"})

bp = Blueprint("vendor", __name__)


@bp.get("/vendor/<name>")
def vendor_file(name: str):
    if name not in FILES:
        abort(404)
    response = send_from_directory(FOLDER, name, max_age=86400)
    response.headers["Access-Control-Allow-Origin"] = "*"  # public library code
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
