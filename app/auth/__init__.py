"""Login and logout for agents and managers (Flask-Login session, Flask-WTF CSRF)."""

from __future__ import annotations

from flask import Flask

from app.auth.views import bp
from app.desk import sessions
from app.extensions import login_manager
from app.models import User


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        # Session and remember-me cookies alike: refused once the user's sessions ended.
        return sessions.user_for_session(session_id)

    app.register_blueprint(bp)
