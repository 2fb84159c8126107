"""Moderation: what phones wrote may wait for the facilitator's approval before the room sees it,
and any idea, comment or reason can be hidden and restored, an idea's title corrected.

Nothing is deleted: a hidden or corrected entry stays on record (the report and the exports
show it, marked). Only the console sends these (events.EVENTS: CONSOLE).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..errors import Refused
from ..extensions import db
from ..models import Comment, Item, Stage, Vote, Workshop
from .access import get_item, lock_workshop


def hold(workshop: Workshop, row: Item | Comment) -> None:
    """Keep a phone's new idea or comment from the room until approved, if the workshop moderates."""
    if workshop.moderation:
        row.hidden = row.pending = True


def _own(workshop: Workshop, model, row_id: int):
    row = db.session.get(model, row_id)
    stage = db.session.get(Stage, row.stage_id) if row is not None else None
    if stage is None or stage.workshop_id != workshop.id:
        raise Refused(_l("That item is not part of this workshop."), 404)
    return row


def hide_comment(workshop: Workshop, comment_id: int, hidden: bool) -> Comment:
    """Hide a comment from the room, or show it (which approves one awaiting approval)."""
    lock_workshop(workshop)
    comment = _own(workshop, Comment, comment_id)
    comment.hidden, comment.pending = hidden, False
    db.session.commit()
    return comment


def hide_reason(workshop: Workshop, vote_id: int, hidden: bool) -> Vote:
    """Hide the reason given with a vote (a verdict) from the room, or show it again; the vote counts."""
    lock_workshop(workshop)
    vote = _own(workshop, Vote, vote_id)
    if not vote.note:
        raise Refused(_l("This vote has no reason to hide."))
    vote.note_hidden = hidden
    db.session.commit()
    return vote


def retitle(workshop: Workshop, item_id: int, title: str) -> Item:
    """Correct an idea's title (a typo); the title as it was first written stays on record."""
    lock_workshop(workshop)
    item = get_item(workshop, item_id)
    title = title.strip()
    if not title:
        raise Refused(_l("Write the corrected title."))
    if title != item.title:
        data = dict(item.data or {})
        data.setdefault("original_title", item.title)
        if data["original_title"] == title:  # corrected back: nothing edited any more
            data.pop("original_title")
        item.data, item.title = data, title
    db.session.commit()
    return item
