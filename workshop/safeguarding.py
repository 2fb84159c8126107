"""Safeguarding mode and retention: the rules that protect the people of a sensitive workshop.

In safeguarding mode (`Workshop.safeguarding`, on by default for the pre-test template):
a consent screen before joining (no consent, no participation: flow.workshops.join), no
names asked, contact details masked at the door (privacy.py), a quick exit on every phone
screen (participate.quick_exit), content warnings before the content, and a helpline on
the last screen. Retention: `retention_days` after the workshop closes, `purge` deletes the
raw answers (every vote, rating, open answer, code and comment, the participants' segment
answers and consent times, and phones' tokens) and keeps each stage's aggregated results
(the kind's `aggregate`), the decisions, the prepared materials and the rendered reports.
`flask --app wsgi retention` runs it (cli.py).
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select

from . import privacy
from .extensions import db
from .flow.access import lock_workshop
from .models import Comment, Item, Participant, Stage, Vote, VoteAction, Workshop, utcnow
from .stages import kind_of


def settings(workshop: Workshop, *, safeguarding: bool, helpline: str, consent_note: str,
             retention_days: int | None, self_paced: bool, segment_questions: dict,
             moderation: bool | None = None, shuffle_ballots: bool | None = None) -> None:
    """Store the workshop's safeguarding and participation settings (checked by SafeguardingForm).

    Switching safeguarding on switches moderation on too (a sensitive workshop approves what
    phones write before the room sees it); the facilitator may switch it off again afterwards.
    """
    lock_workshop(workshop)
    switching_on = safeguarding and not workshop.safeguarding
    workshop.safeguarding = safeguarding
    workshop.helpline, workshop.consent_note = helpline, consent_note
    workshop.retention_days = retention_days
    workshop.self_paced = self_paced
    workshop.segment_questions = segment_questions
    if moderation is not None:
        workshop.moderation = moderation or switching_on
    elif switching_on:
        workshop.moderation = True
    if shuffle_ballots is not None:
        workshop.shuffle_ballots = shuffle_ballots
    if safeguarding:
        workshop.collect_names = False
    if switching_on:
        mask_stored(workshop)
    db.session.commit()


def _stage_ids(workshop: Workshop):
    return select(Stage.id).where(Stage.workshop_id == workshop.id).scalar_subquery()


def mask_stored(workshop: Workshop) -> int:
    """Mask contact details in what participants wrote before safeguarding was on; return how many
    rows changed."""
    changed = 0
    stages = _stage_ids(workshop)
    for model, columns in ((Vote, ("note",)), (Comment, ("text",)), (Item, ("title", "detail"))):
        query = select(model).where(model.stage_id.in_(stages))
        if model is Item:
            query = query.where(Item.participant_id.is_not(None))
        for row in db.session.scalars(query):
            for name in columns:
                text, found = privacy.mask(getattr(row, name))
                if found:
                    setattr(row, name, text)
                    changed += 1
    for person in db.session.scalars(select(Participant).filter_by(workshop_id=workshop.id)):
        person.name = ""
    return changed


def masked_count(workshop: Workshop) -> int:
    """Return how many answers and comments had contact details removed (the console tells the
    facilitator)."""
    stages = _stage_ids(workshop)
    marks = privacy.MARKS
    votes = db.session.scalar(select(func.count()).select_from(Vote).where(
        Vote.stage_id.in_(stages), or_(*(Vote.note.contains(m) for m in marks))))
    comments = db.session.scalar(select(func.count()).select_from(Comment).where(
        Comment.stage_id.in_(stages), or_(*(Comment.text.contains(m) for m in marks))))
    items = db.session.scalar(select(func.count()).select_from(Item).where(
        Item.stage_id.in_(stages), Item.participant_id.is_not(None),
        or_(*(Item.title.contains(m) for m in marks), *(Item.detail.contains(m) for m in marks))))
    return votes + comments + items


# --- retention -----------------------------------------------------------------------

def delete_on(workshop: Workshop) -> datetime | None:
    """Return when the raw answers are deleted: `retention_days` after closing (None: kept, or still open)."""
    if workshop.retention_days is None or workshop.closed_at is None:
        return None
    return workshop.closed_at + timedelta(days=workshop.retention_days)


def due(now: datetime | None = None) -> list[Workshop]:
    """Return the workshops whose answers must be deleted by `now` (closed, retention passed, not yet
    done)."""
    now = now or utcnow()
    candidates = db.session.scalars(select(Workshop).where(
        Workshop.status == "closed", Workshop.retention_days.is_not(None), Workshop.closed_at.is_not(None),
        Workshop.purged_at.is_(None))).all()
    return [w for w in candidates if delete_on(w) <= now]


def purge(workshop: Workshop, now: datetime | None = None) -> dict:
    """Delete a workshop's raw answers, keeping each stage's aggregated results; return what went."""
    lock_workshop(workshop)
    for stage in workshop.stages:
        kind = kind_of(stage)
        if kind.playable and stage.aggregate is None and stage.phase != "pending":
            stage.aggregate = kind.aggregate(stage)
    stages = _stage_ids(workshop)
    people = select(Participant.id).where(Participant.workshop_id == workshop.id).scalar_subquery()
    gone = {
        "votes": db.session.execute(delete(Vote).where(Vote.stage_id.in_(stages))).rowcount,
        "comments": db.session.execute(delete(Comment).where(Comment.stage_id.in_(stages))).rowcount,
    }
    for stage in workshop.stages:  # answers a kind keeps apart (a survey's responses), figures kept above
        for what, n in kind_of(stage).delete_raw(stage).items():
            gone[what] = gone.get(what, 0) + n
    db.session.execute(delete(VoteAction).where(VoteAction.participant_id.in_(people)))
    participants = db.session.scalars(select(Participant).filter_by(workshop_id=workshop.id)).all()
    for person in participants:  # kept as a count per group; nothing a person answered stays
        person.segments, person.consented_at, person.name = {}, None, ""
        person.token = secrets.token_urlsafe(24)  # a phone that still holds the old cookie is nobody
    gone["participants' answers"] = len(participants)
    workshop.purged_at = now or utcnow()
    db.session.commit()
    return gone


def run_retention(now: datetime | None = None) -> list[tuple[Workshop, dict]]:
    """Purge every workshop that is due; return what was deleted for each."""
    return [(workshop, purge(workshop, now)) for workshop in due(now)]
