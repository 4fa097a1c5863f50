from __future__ import annotations

import logging
import math
import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.desk import people, sessions
from app.extensions import limiter

bp = Blueprint("auth", __name__, template_folder="templates")
# One line per failed or refused login, for whoever watches for attacks (never the password).
audit = logging.getLogger("audit")


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me signed in")


def _safe_next(target: str | None) -> str | None:
    """A path on this site to return to after login, or None.

    Browsers read a backslash as a slash and drop tabs and line breaks, so ``/\\evil.example``
    or ``/<TAB>/evil.example`` would lead to another site: the check sees the target as they do.
    """
    if not target:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    target = target.replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user) -> str:
    """Managers start on the desk dashboard, agents in the chat window."""
    if user.is_manager:
        return url_for("admin.index")
    return url_for("agent.console")


def _typed_username() -> str:
    return (request.form.get("username") or "").strip().lower()[:64]


def _account_key() -> str:
    return "login-account:" + _typed_username()


def _failed(response) -> bool:
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
# Only failures count, per username typed (existing or not) and per address; the limits
# live in the limiter's storage (Redis in production), so they hold across processes.
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"], key_func=_account_key,
               methods=["POST"], deduct_when=_failed)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_ADDRESS"],
               key_func=get_remote_address, methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")) or home_for(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        attempt = people.check_login(form.username.data, form.password.data)
        if attempt.user is not None:
            login_user(attempt.user, remember=form.remember.data)
            audit.info("login: user=%r address=%s", attempt.user.username, request.remote_addr)
            return redirect(_safe_next(request.args.get("next")) or home_for(attempt.user))
        audit.warning("login failed: username=%r address=%s reason=%s", _typed_username(),
                      request.remote_addr, attempt.reason)
        flash("Wrong username or password.", "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.errorhandler(429)
def too_many_failures(exc):
    """Past the limit of failed logins: refused, whatever the password, until it resets."""
    limit = limiter.current_limit
    wait = max(1, math.ceil(limit.reset_at - time.time())) if limit else 60
    audit.warning("login refused: username=%r address=%s reason=too_many_failures",
                  _typed_username(), request.remote_addr)
    minutes = max(1, math.ceil(wait / 60))
    flash(f"Too many failed logins for this account or from this address. Try again in "
          f"{minutes} minute{'s' if minutes != 1 else ''}.", "error")
    response = current_app.make_response(
        (render_template("auth/login.html", form=LoginForm()), 429))
    response.headers["Retry-After"] = str(wait)
    return response


@bp.post("/logout")
@login_required
def logout():
    """Ends every session of this user, on every device, and closes his open sockets."""
    sessions.end_sessions(int(current_user.id), sessions.LOGGED_OUT)
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
