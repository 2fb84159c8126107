"""Flask commands: `flask create-facilitator`, `flask demo`, `flask translate ...`."""
from __future__ import annotations

import click

from .auth import create_facilitator, find_facilitator
from .catalogues import translate_group
from .demo import seed_demo
from .forms import MIN_PASSWORD


def init_app(app) -> None:
    """Register the commands."""

    @app.cli.command("create-facilitator")
    @click.argument("email")
    @click.option("--name", default="", help="Display name (default: the e-mail).")
    @click.password_option(help="Prompted for when not given.")
    def create_facilitator_command(email: str, name: str, password: str):
        """Create a facilitator account."""
        if find_facilitator(email):
            raise click.ClickException(f"An account for {email} exists already.")
        if len(password) < MIN_PASSWORD:
            raise click.ClickException(f"Use a password of at least {MIN_PASSWORD} characters.")
        user = create_facilitator(email, name or email, password)
        click.echo(f"Created facilitator {user.email}.")

    @app.cli.command("demo")
    def demo_command():
        """Create the demo facilitator and workshop (idempotent)."""
        workshop = seed_demo()
        click.echo(f"Demo workshop {workshop.title!r}, code {workshop.code}.")

    app.cli.add_command(translate_group)
