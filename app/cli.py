"""Flask CLI commands: seed-demo, create-user, and the desk's periodic jobs."""

from __future__ import annotations

import click
from flask import Flask

from app.desk import chats, demo, people
from app.desk.errors import DeskError


def init_app(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--password", default="demo", show_default=True)
    def seed_demo_command(password: str) -> None:
        """Load the demo desk (safe to run twice)."""
        created = demo.seed_demo(password)
        click.echo("Created: " + ", ".join(created) if created else "Demo data already present.")

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--name", "display_name", required=True, help="Display name")
    @click.option("--email", default=None)
    @click.option("--phone", default=None)
    @click.option("--role", type=click.Choice(["agent", "manager"], case_sensitive=False),
                  default="agent", show_default=True)
    @click.option("--group", "groups", multiple=True, help="Person group (repeatable)")
    @click.password_option()
    def create_user_command(username, display_name, email, phone, role, groups, password):
        """Create an agent or manager account."""
        try:
            user = people.create_user(username, password, display_name=display_name, email=email,
                                      phone=phone, role=role, groups=list(groups))
        except DeskError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"Created {user.role.value.lower()} {user.username}.")

    @app.cli.command("close-idle-chats")
    def close_idle_command() -> None:
        """Close idle chats and abandon waiting chats whose visitor left (once)."""
        closed = chats.close_idle_chats()
        abandoned = chats.abandon_expired()
        click.echo(f"Closed {len(closed)} idle chat(s); abandoned {len(abandoned)}.")
