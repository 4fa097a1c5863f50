"""Flask CLI commands: seed-demo, create-user, the outbox senders, webhooks and API tokens,
recount-reports.

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
from app.desk import chats, people, report_rollup
from app.desk.errors import DeskError


@click.command("seed-demo")
@click.option("--password", default="demo", show_default=True)
@click.option("--with-history", is_flag=True,
              help="Also resolved SRs with solutions and an end user's earlier requests.")
@with_appcontext
def seed_demo_command(password: str, with_history: bool) -> None:
    """Load the demo desk (safe to run twice)."""
    created = demo.seed_demo(password)
    if with_history:
        from app import demo_history

        created += demo_history.seed_history()
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


def _run_sender(worker, loop: bool, label: str) -> None:
    """Send what is due once, or keep sending (``--loop``) until Ctrl+C or SIGTERM."""
    if not loop:
        stats = worker.run_once()
        if stats is None:
            raise click.ClickException(f"The {label} pass failed; see the log above.")
        if not (stats.claimed or stats.reclaimed):
            click.echo(f"{label.capitalize()} outbox: nothing due.")
        return
    click.echo(f"Sending {label} as {worker.worker_id} every {worker.interval}s; Ctrl+C stops.")
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())  # finish the pass, then stop
    try:
        worker.run()
    except KeyboardInterrupt:
        pass
    click.echo("Stopped.")


def _sender_options(what: str, setting: str):
    def decorate(fn):
        fn = click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
                          help=f"{what} claimed per pass.")(fn)
        fn = click.option("--interval", type=click.FloatRange(min=0.1), default=None,
                          help=f"Seconds between passes with --loop [default: {setting}, "
                               "or 5].")(fn)
        return click.option("--loop", is_flag=True,
                            help="Keep sending until stopped (Ctrl+C).")(fn)
    return decorate


@click.command("send-mail")
@_sender_options("Messages", "MAIL_WORKER_INTERVAL")
@with_appcontext
def send_mail_command(loop: bool, interval: float | None, limit: int) -> None:
    """Send the due messages of the mail outbox (once, or with --loop as a worker)."""
    from app.mail.sender import MailWorker

    app = current_app._get_current_object()
    pause = interval or app.config.get("MAIL_WORKER_INTERVAL") or 5
    worker = MailWorker(app, pause, kind="cli", limit=limit, sleep=time.sleep,
                        report=lambda stats: click.echo(f"Mail outbox: {stats}."))
    _run_sender(worker, loop, "mail")


@click.command("send-webhooks")
@_sender_options("Deliveries", "WEBHOOK_WORKER_INTERVAL")
@with_appcontext
def send_webhooks_command(loop: bool, interval: float | None, limit: int) -> None:
    """Send the due deliveries of the webhook outbox (once, or with --loop as a worker)."""
    from app.integration import sender

    app = current_app._get_current_object()
    pause = interval or app.config.get("WEBHOOK_WORKER_INTERVAL") or 5
    worker = sender.worker(app, pause, kind="cli", limit=limit, sleep=time.sleep,
                           report=lambda stats: click.echo(f"Webhook outbox: {stats}."))
    _run_sender(worker, loop, "webhook")


@click.command("add-webhook")
@click.argument("url")
@click.option("--secret", required=True, help="Shared with the receiver, which checks the "
              "X-Desk-Signature of every delivery (at least 16 characters).")
@click.option("--events", default="", help="Comma-separated events [default: all of them].")
@click.option("--description", default=None)
@with_appcontext
def add_webhook_command(url: str, secret: str, events: str, description: str | None) -> None:
    """Register a webhook: the chosen desk events are POSTed to URL, signed."""
    from app.integration import webhooks

    try:
        webhook = webhooks.add_webhook(url, secret=secret, events=events,
                                       description=description)
    except DeskError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Webhook {webhook.id} added: {webhook.url} receives "
               f"{', '.join(webhook.event_names)}.")


@click.command("create-api-token")
@click.argument("username")
@click.option("--name", default=None, help="What the token is for (shown in the list).")
@with_appcontext
def create_api_token_command(username: str, name: str | None) -> None:
    """Create a personal API token for USERNAME and print it (it is shown only once)."""
    from app.desk import api_tokens

    user = people.find_user(username)
    if user is None:
        raise click.ClickException(f"No user {username}.")
    created = api_tokens.create_api_token(user, name)
    click.echo(f"API token {created.token.name!r} for {user.username} (keep it: it is not "
               "shown again):", err=True)
    click.echo(created.secret)


@click.command("recount-reports")
@with_appcontext
def recount_reports_command() -> None:
    """Count the reports' roll-up again from the chats (after DESK_TIMEZONE changed)."""
    rows = report_rollup.recount()
    click.echo(f"Counted the reports again: {rows} roll-up rows, days in "
               f"{current_app.config.get('DESK_TIMEZONE') or 'UTC'}.")


COMMANDS = (seed_demo_command, create_user_command, close_idle_command, send_mail_command,
            send_webhooks_command, add_webhook_command, create_api_token_command,
            recount_reports_command)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
