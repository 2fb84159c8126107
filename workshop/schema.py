"""The database schema on start: migrate to the newest revision (Flask-Migrate / Alembic).

`migrations/versions/` holds one revision per schema change, from the first
released schema (0001) on. A database made by `db.create_all()` before
migrations existed has no `alembic_version` table: it holds schema 0001, so it
is stamped with it and then upgraded like any other.
"""
from __future__ import annotations

from pathlib import Path

import flask_migrate
from sqlalchemy import inspect

from .extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
FIRST_REVISION = "0001"


def upgrade() -> None:
    """Bring the app's database to the newest schema, adopting a pre-migrations one first."""
    tables = set(inspect(db.engine).get_table_names())
    if tables and "alembic_version" not in tables:
        flask_migrate.stamp(directory=str(MIGRATIONS), revision=FIRST_REVISION)
    flask_migrate.upgrade(directory=str(MIGRATIONS))
