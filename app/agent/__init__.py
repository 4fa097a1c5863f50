"""The agent console blueprint."""

from flask import Blueprint, Flask
from flask_login import login_required

bp = Blueprint("agent", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/agent")


@bp.get("/")
@login_required
def console():
    return "Agent console (being built)"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
