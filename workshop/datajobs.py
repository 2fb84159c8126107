"""The workshop file jobs a worker process runs (offload.JOBS): import a JSON export, export CSV or JSON.

Each takes ids and bytes and gives back an id or bytes: the worker opens the database itself
(its own connection; with SQLite in WAL mode its reads never hold up the room's writes), so the
live server neither parses, checks, tallies nor serialises anything of a big workshop.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from . import exports, imports
from .errors import Refused
from .extensions import db
from .models import Facilitator, Workshop


def import_file(facilitator_id: int, raw: bytes) -> int:
    """Import a workshop file for a facilitator; return the new workshop's id (imports.import_workshop)."""
    facilitator = db.session.get(Facilitator, facilitator_id)
    if facilitator is None:
        raise Refused(_l("Sign in again, then import the file."), 403)
    return imports.import_workshop(facilitator, raw).id


def _workshop(workshop_id: int) -> Workshop:
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None:
        raise Refused(_l("This workshop was deleted."), 404)
    return workshop


def export_csv(workshop_id: int) -> bytes:
    """Return a workshop's CSV tables in a zip (exports.csv_zip)."""
    return exports.csv_zip(_workshop(workshop_id))


def export_json(workshop_id: int) -> bytes:
    """Return a workshop as one JSON file (exports.json_export)."""
    return exports.json_export(_workshop(workshop_id))
