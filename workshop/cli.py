"""Flask commands: `flask create-facilitator`, `flask demo`, `flask translate ...`."""
from __future__ import annotations

from datetime import datetime

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

    @app.cli.command("retention")
    @click.option("--dry-run", is_flag=True,
                  help="Only list the workshops whose answers are due for deletion.")
    @click.option("--now", default=None, help="Act as if it were this UTC time (ISO 8601), e.g. to test.")
    def retention_command(dry_run: bool, now: str | None):
        """Delete the raw answers of closed workshops whose retention period has passed (keeps the
        figures)."""
        from .safeguarding import delete_on, due, purge
        moment = datetime.fromisoformat(now).replace(tzinfo=None) if now else None
        workshops = due(moment)
        if not workshops:
            click.echo("No workshop is due for deletion.")
        for workshop in workshops:
            if dry_run:
                click.echo(f"Due: {workshop.code} {workshop.title!r} (since {delete_on(workshop):%Y-%m-%d}).")
                continue
            gone = purge(workshop, moment)
            click.echo(f"Deleted the answers of {workshop.code} {workshop.title!r}: "
                       + ", ".join(f"{n} {what}" for what,
                                   n in gone.items()) + "; the figures and reports stay.")

    app.cli.add_command(translate_group)
