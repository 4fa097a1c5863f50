"""The agent console: Welcome bar, Agent Chat window, SR form and My work.

Server-rendered pages (views.py) with one ES module per screen (static/), and the JSON
endpoints those modules call (api.py). Every rule is asked of app/desk.
"""

from flask import Blueprint, Flask

bp = Blueprint("agent", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/agent")

from app.agent import api, canned, chat_side, supervise, tokens, views  # noqa: E402,F401 - register the routes on bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.context_processor(views.welcome_bar_context)
