"""Load a workshop, stage, item or participant, or refuse; and the locks that serialise changes."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from .. import batch
from ..errors import Refused
from ..extensions import db
from ..models import CODE_ALPHABET, CODE_LENGTH, Item, Participant, Stage, Workshop, utcnow

ENDED = _l("This workshop has ended. Thank you for taking part!")


def normalise_code(code: str) -> str:
    """Upper-case a typed code and drop spaces and dashes."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


# Built once: every phone's request looks these up, and building a statement costs as
# much as running it. The workshop comes with its current stage, which nearly every page reads.
WORKSHOP_BY_CODE = (select(Workshop).where(Workshop.code == bindparam("code"))
                    .options(joinedload(Workshop.current_stage)))
PARTICIPANT_BY_TOKEN = select(Participant).where(Participant.workshop_id == bindparam("workshop_id"),
                                                 Participant.token == bindparam("token"))
_W, _P = Workshop.__table__.c, Participant.__table__.c
# A phone's socket: its workshop and itself in one statement, plain values (a join storm connects
# thousands; the ORM's two loads cost four times as much).
PHONE_ENTRY = (select(_W.id, _W.status, _P.id.label("participant_id"))
               .outerjoin(Participant.__table__, (_P.workshop_id == _W.id) & (_P.token == bindparam("token")))
               .where(_W.code == bindparam("code")))
VERSION = select(_W.version).where(_W.id == bindparam("workshop_id"))
# What a page served from a cache needs of its workshop (participate: the join page of a storm):
# a fifth of the ORM's load of the workshop with its stage.
WORKSHOP_HEAD = select(_W.id, _W.code, _W.version, _W.status, _W.safeguarding, _W.facilitator_id).where(
    _W.code == bindparam("code"))


def well_formed(code: str) -> bool:
    """Tell whether a normalised code could be a workshop's (else no query is made)."""
    return len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)


def no_such(code: str) -> Refused:
    """The refusal of a code no workshop has."""
    return Refused(_l("No workshop has the code %(code)s. Check the code on the screen.",
                      code=code[:12] or "?"), 404)


def get_workshop(code: str, facilitator=None, open_only: bool = False, head: bool = False):
    """Load a workshop by join code, or refuse.

    With `facilitator`, only its owner gets it; with `open_only`, a closed
    workshop is refused as if it did not exist for joining. With `head`, only its
    few plain columns come (WORKSHOP_HEAD, refused alike; `load` gets the rest).
    """
    code = normalise_code(code)
    workshop = None
    if well_formed(code):
        workshop = (batch.first(WORKSHOP_HEAD, {"code": code}) if head
                    else db.session.scalar(WORKSHOP_BY_CODE, {"code": code}))
    if workshop is None:
        raise no_such(code)
    if facilitator is not None and workshop.facilitator_id != facilitator.id:
        raise Refused(_l("This workshop belongs to another facilitator."), 403)
    if open_only and workshop.status != "open":
        raise Refused(ENDED, 410)
    return workshop


def load(head) -> Workshop:
    """Return the whole workshop (with its current stage) of a `head` row."""
    return db.session.get(Workshop, head.id, options=[joinedload(Workshop.current_stage)])


def get_stage(workshop: Workshop, stage_id: int) -> Stage:
    """Load one of this workshop's stages, or refuse."""
    stage = db.session.get(Stage, stage_id)
    if stage is None or stage.workshop_id != workshop.id:
        raise Refused(_l("That stage is not part of this workshop."), 404)
    return stage


def get_item(workshop: Workshop, item_id: int) -> Item:
    """Load one of this workshop's items, or refuse."""
    item = db.session.get(Item, item_id)
    if item is None or item.stage.workshop_id != workshop.id:
        raise Refused(_l("That item is not part of this workshop."), 404)
    return item


def participant_for(workshop: Workshop, token: str | None) -> Participant | None:
    """Return the participant this phone's token belongs to, if any."""
    if not token:
        return None
    return db.session.scalar(PARTICIPANT_BY_TOKEN, {"workshop_id": workshop.id, "token": token})


def phone_entry(code: str, token: str):
    """Return (workshop id, participant id or None) of an open workshop, for a phone's socket.

    Refused as `get_workshop(code, open_only=True)` refuses: 404 for a code no workshop has, 410
    once it ended.
    """
    code = normalise_code(code)
    row = None
    if well_formed(code):
        row = batch.first(PHONE_ENTRY, {"code": code, "token": token})
    if row is None:
        raise no_such(code)
    if row.status != "open":
        raise Refused(ENDED, 410)
    return row.id, row.participant_id


def version_of(workshop_id: int) -> int | None:
    """Return a workshop's version as the database has it now (its screens' views follow it)."""
    row = batch.first(VERSION, {"workshop_id": workshop_id})
    return None if row is None else row.version


def require_open(workshop) -> None:
    """Refuse a participant's action in a workshop that has been closed."""
    if not workshop.is_open:
        raise Refused(ENDED, 410)


def lock_workshop(workshop: Workshop) -> None:
    """Serialise facilitator actions on one workshop (row lock / SQLite write lock).

    Two console tabs acting at once: the second waits and then sees the first. The
    version it bumps keys the phones' cached pages (live.py, participate.py).
    """
    db.session.execute(update(Workshop).where(Workshop.id == workshop.id)
                       .values(version=Workshop.version + 1).execution_options(synchronize_session=False))
    db.session.expire_all()  # nothing read before the lock is trusted after it


# The vote path runs once per tap in the room: its statement is built once, on table columns.
LOCK_PARTICIPANT = update(Participant.__table__).where(
    Participant.__table__.c.id == bindparam("pid")).values(seen_at=bindparam("now"))


def lock_participant(participant) -> None:
    """Serialise one participant's votes, so two tabs cannot overspend a budget."""
    db.session.execute(LOCK_PARTICIPANT, {"pid": participant.id, "now": utcnow()})
