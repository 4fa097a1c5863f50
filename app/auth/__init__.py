"""Login and logout for agents and managers (Flask-Login session, Flask-WTF CSRF)."""

from __future__ import annotations

from flask import Flask

from app.auth.views import bp
from app.extensions import db, login_manager
from app.models import User


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        if not user_id.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.is_enabled else None

    app.register_blueprint(bp)
