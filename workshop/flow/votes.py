"""The vote path: one phone's tap, checked and stored before it is acknowledged.

It runs once per tap in the room (2,000 phones at a time): the workshop and its
stage are frozen plain values (`live_workshop`, kept per process and read again by every
vote after its lock), every statement is built once on table columns, and a vote is three
database round trips (`cast_vote`). Event -> check (events.py) -> this
rule -> the kind's `vote` (stages/) -> commit -> the coalesced push (broadcast.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from .. import batch
from ..errors import Refused
from ..extensions import db
from ..models import Stage, VoteAction, Workshop, utcnow
from ..stages import kind_of
from ..stages.base import ITEM_STATE, MY_VOTES
from .access import LOCK_PARTICIPANT, require_open


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


CHECKED = "charrette.vote_checked"  # db.session.info: this vote was checked against the workshop read afresh


class Stale(Exception):
    """The workshop a vote was checked against (this process's copy) has changed: check it again."""


def live_workshop(workshop_id: int, fresh: bool = False) -> LiveWorkshop | None:
    """Return the workshop and its current stage for a phone's vote, as plain values.

    Kept per process between votes (no statement at all): every vote reads the same row
    again anyway, after its participant lock, in its one round trip (`cast_vote`), and one
    that finds it changed is checked again from the start (`Stale`). `fresh`: read it now.
    Loading ORM objects cost as much as the vote itself; facilitator actions and views load
    the real workshop.
    """
    kept = current_app.extensions.setdefault("charrette.live_workshops", {})
    if not fresh and workshop_id in kept:
        return kept[workshop_id]
    live = _live(db.session.execute(_LIVE_WORKSHOP, {"wid": workshop_id}).first())
    _keep(workshop_id, live)
    return live


def _live(row) -> LiveWorkshop | None:
    if row is None:
        return None
    stage = LiveStage(row.stage_id, row.kind, row.phase, row.settings or {}) if row.stage_id else None
    return LiveWorkshop(row.id, row.status, stage, bool(row.safeguarding))


def _keep(workshop_id: int, live: LiveWorkshop | None) -> None:
    kept = current_app.extensions.setdefault("charrette.live_workshops", {})
    if live is None:
        kept.pop(workshop_id, None)
    else:
        kept[workshop_id] = live


def cast_vote(workshop, participant, stage, form, client_id: str) -> dict:
    """Store one vote action (the stage kind's checked VoteForm) and return the participant's votes.

    Three round trips on PostgreSQL: (1) BEGIN, the participant's row lock, the workshop
    and stage read again after it (a close that committed while we waited wins), this
    action's client id recorded, the item and the phone's own votes; (2) the kind's write;
    (3) COMMIT. A kind whose write is its last statement sends the COMMIT with it
    (`batch.run_together(..., commit=True)`, Pick a trend's dots): two round trips, and the
    commit below then has nothing to send. tests/test_voting_roundtrips.py counts them.
    """
    require_open(workshop)
    if stage.phase != "vote":
        raise Refused(_l("Voting is closed."))
    kind = kind_of(stage)
    mine = {"stage": stage.id, "participant": participant.id}
    item_id = getattr(getattr(form, "item_id", None), "data", None)
    ahead = [(ITEM_STATE, {"item": item_id})] if isinstance(item_id, int) else []
    ahead.append((MY_VOTES, mine))
    with batch.one_trip():
        return _cast(workshop, participant, stage, form, client_id, kind, ahead)


def _cast(workshop, participant, stage, form, client_id: str, kind, ahead: list) -> dict:
    """Lock, read again and record the action (one round trip), then let the kind vote; commit."""
    try:
        _locked, now, first, *fetched = batch.run_together([
            (LOCK_PARTICIPANT, {"pid": participant.id, "now": utcnow()}),
            (_LIVE_WORKSHOP, {"wid": workshop.id}),
            (_first_application(), {"pid": participant.id, "cid": client_id}),
            *ahead])
        fresh = _live(now[0] if now else None)
        _keep(workshop.id, fresh)
        if not _still(fresh, workshop, stage):
            db.session.rollback()
            if isinstance(workshop, LiveWorkshop):  # this process's copy: check the vote again on the new one
                raise Stale
            raise Refused(_l("Voting is closed."))  # changed while this request waited for the lock
        db.session.info[CHECKED] = True  # whatever is refused from here on was checked on a fresh read
        for (statement, params), rows in zip(ahead, fetched, strict=True):
            batch.remember(statement, params, rows)
        if not first:
            db.session.commit()  # a copy of an action already applied: change nothing, say what is stored
            return kind.ballot(stage, participant)
        try:
            result = kind.vote(stage, participant, form, client_id)
        except Refused:
            db.session.rollback()
            raise
        if db.session().in_transaction():  # else the kind's write took the COMMIT with it
            db.session.commit()
        return result
    finally:
        batch.forget()


def _still(fresh: LiveWorkshop | None, workshop, stage) -> bool:
    """Tell whether the workshop read after the lock is the one the vote was checked against."""
    now = fresh.current_stage if fresh is not None else None
    return (now is not None and fresh.status == workshop.status
            and fresh.safeguarding == workshop.safeguarding and now.id == stage.id
            and now.phase == stage.phase and now.settings == (stage.settings or {}))


def _first_application():
    """Return the statement that records a vote action as applied (a row back only the first time).

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
    return statement


_FIRST_APPLICATION: dict = {}  # dialect name -> the statement
