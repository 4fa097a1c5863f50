"""Flask CLI commands: seed-demo, create-user, and the desk's periodic jobs.

Each command is a plain click command at module level (run in the app's context by Flask's
CLI), registered by `init_app`, and tested with Flask's CLI runner.
"""

from __future__ import annotations

import signal
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app import demo
from app.desk import chats, people
from app.desk.errors import DeskError


@click.command("seed-demo")
@click.option("--password", default="demo", show_default=True)
@with_appcontext
def seed_demo_command(password: str) -> None:
    """Load the demo desk (safe to run twice)."""
    created = demo.seed_demo(password)
    click.echo("Created: " + ", ".join(created) if created else "Demo data already present.")


@click.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Display name")
@click.option("--email", default=None)
@click.option("--phone", default=None)
@click.option("--role", type=click.Choice(["agent", "manager"], case_sensitive=False),
              default="agent", show_default=True)
@click.option("--group", "groups", multiple=True, help="Person group (repeatable)")
@click.password_option()
@with_appcontext
def create_user_command(username, display_name, email, phone, role, groups, password):
    """Create an agent or manager account."""
    try:
        user = people.create_user(username, password, display_name=display_name, email=email,
                                  phone=phone, role=role, groups=list(groups))
    except DeskError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Created {user.role.value.lower()} {user.username}.")


@click.command("close-idle-chats")
@with_appcontext
def close_idle_command() -> None:
    """Close idle chats and abandon waiting chats whose visitor left (once)."""
    closed = chats.close_idle_chats()
    abandoned = chats.abandon_expired()
    click.echo(f"Closed {len(closed)} idle chat(s); abandoned {len(abandoned)}.")


@click.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep sending until stopped (Ctrl+C).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between passes with --loop [default: MAIL_WORKER_INTERVAL, or 5].")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="Messages claimed per pass.")
@with_appcontext
def send_mail_command(loop: bool, interval: float | None, limit: int) -> None:
    """Send the due messages of the mail outbox (once, or with --loop as a worker)."""
    from app.mail.sender import MailWorker

    app = current_app._get_current_object()
    pause = interval or app.config.get("MAIL_WORKER_INTERVAL") or 5
    worker = MailWorker(app, pause, kind="cli", limit=limit, sleep=time.sleep,
                        report=lambda stats: click.echo(f"Mail outbox: {stats}."))
    if not loop:
        stats = worker.run_once()
        if stats is None:
            raise click.ClickException("The mail pass failed; see the log above.")
        if not (stats.claimed or stats.reclaimed):
            click.echo("Mail outbox: nothing due.")
        return
    click.echo(f"Sending mail as {worker.worker_id} every {pause}s; Ctrl+C stops.")
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())  # finish the pass, then stop
    try:
        worker.run()
    except KeyboardInterrupt:
        pass
    click.echo("Stopped.")


COMMANDS = (seed_demo_command, create_user_command, close_idle_command, send_mail_command)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
