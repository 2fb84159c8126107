"""The vote path: one phone's tap, checked and stored before it is acknowledged.

It runs once per tap in the room (2,000 phones at a time): the workshop and its
stage come from one plain query as frozen values (`live_workshop`), and every
statement is built once on table columns. Event -> check (events.py) -> this
rule -> the kind's `vote` (stages/) -> commit -> the coalesced push (broadcast.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import Refused
from ..extensions import db
from ..models import Stage, VoteAction, Workshop
from ..stages import kind_of
from .access import lock_participant, require_open


@dataclass(frozen=True)
class LiveStage:
    """What a vote reads of the current stage; any other field is an AttributeError, not a None."""

    id: int
    kind: str
    phase: str
    settings: dict


@dataclass(frozen=True)
class LiveWorkshop:
    """What a vote reads of its workshop, from one plain query (`live_workshop`)."""

    id: int
    status: str
    current_stage: LiveStage | None
    safeguarding: bool = False

    is_open = Workshop.is_open

    @property
    def current_stage_id(self) -> int | None:
        return self.current_stage.id if self.current_stage else None


@dataclass(frozen=True)
class LiveParticipant:
    """A phone, as a vote knows it: checked when its socket connected; its id is all a vote needs."""

    id: int


_W, _S = Workshop.__table__.c, Stage.__table__.c
_LIVE_WORKSHOP = (select(_W.id, _W.status, _W.safeguarding, _S.id.label("stage_id"), _S.kind, _S.phase,
                         _S.settings)
                  .select_from(Workshop.__table__.outerjoin(Stage.__table__, _W.current_stage_id == _S.id))
                  .where(_W.id == bindparam("wid")))
_STAGE_PHASE = select(_S.phase).where(_S.id == bindparam("sid"))


def live_workshop(workshop_id: int) -> LiveWorkshop | None:
    """Load the workshop and its current stage for a phone's vote: one statement, no ORM objects.

    A vote comes once per tap in the room, and loading ORM objects cost as much as the
    vote itself. Facilitator actions and views load the real workshop.
    """
    row = db.session.execute(_LIVE_WORKSHOP, {"wid": workshop_id}).first()
    if row is None:
        return None
    stage = LiveStage(row.stage_id, row.kind, row.phase, row.settings or {}) if row.stage_id else None
    return LiveWorkshop(row.id, row.status, stage, bool(row.safeguarding))


def cast_vote(workshop, participant, stage, form, client_id: str) -> dict:
    """Store one vote action (the stage kind's checked VoteForm) and return the participant's votes."""
    require_open(workshop)
    if stage.phase != "vote":
        raise Refused(_l("Voting is closed."))
    kind = kind_of(stage)
    lock_participant(participant)
    # A close that committed while we waited for the lock wins.
    if db.session.execute(_STAGE_PHASE, {"sid": stage.id}).scalar() != "vote":
        db.session.rollback()
        raise Refused(_l("Voting is closed."))
    if not _first_application(participant, client_id):
        db.session.commit()  # a copy of an action already applied: change nothing, say what is stored
        return kind.ballot(stage, participant)
    try:
        mine = kind.vote(stage, participant, form, client_id)
    except Refused:
        db.session.rollback()
        raise
    db.session.commit()
    return mine


def _first_application(participant, client_id: str) -> bool:
    """Record that this vote action is applied; False when it already was (a late copy).

    Runs after the participant's row lock, so two copies racing cannot both pass.
    """
    dialect = db.session.get_bind().dialect.name
    statement = _FIRST_APPLICATION.get(dialect)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = VoteAction.__table__
        # RETURNING, not rowcount: a row comes back only when this copy was the first.
        statement = _FIRST_APPLICATION[dialect] = (
            insert(table).values(participant_id=bindparam("pid"), client_id=bindparam("cid"))
            .on_conflict_do_nothing().returning(table.c.client_id))
    return db.session.execute(statement, {"pid": participant.id, "cid": client_id}).first() is not None


_FIRST_APPLICATION: dict = {}  # dialect name -> the statement
