from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.desk import people

bp = Blueprint("auth", __name__, template_folder="templates")


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


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")) or home_for(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = people.authenticate(form.username.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
        flash("Wrong username or password.", "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
