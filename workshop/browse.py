"""The console's lists of a stage with many items: a bounded part in the pushed view, the rest on request.

(The projector's view of such a stage loads only what its wall shows: `room_ids`.)

A pushed console view is rendered once per language and sent to every console on each new
idea: listing 2,000 ideas made it 2.5 MB. Past LISTED items (in a kind whose items come from
every phone, `crowd_items`), the view lists the ideas awaiting approval and the newest ones,
the tally's leaders and the decision's; a console searches and pages through the rest over
HTTP (facilitate.browse_items), for itself only. Pure of HTTP.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .extensions import db
from .models import Item, Stage
from .stages import kind_of

LISTED = 40  # ideas (and tally rows, and decision choices) a pushed console view lists at most
PAGE = 20    # ideas per page of a searched list
SHOWS = ("all", "pending", "hidden", "active")  # what a searched list may be narrowed to


def counts(stage: Stage) -> dict[str, int]:
    """Return how many items the stage has: all, active (in the vote) and awaiting approval."""
    total, active, pending = db.session.execute(
        select(func.count(Item.id),
               func.count(Item.id).filter(Item.hidden.is_(False), Item.merged_into_id.is_(None)),
               func.count(Item.id).filter(Item.pending.is_(True)))
        .where(Item.stage_id == stage.id)).one()
    return {"total": total, "active": active, "pending": pending}


def bounded(stage: Stage, total: int) -> bool:
    """Tell whether the console lists only a part of the stage's items (too many to push whole)."""
    return bool(kind_of(stage).crowd_items) and total > LISTED


def listed_ids(stage: Stage) -> list[int]:
    """Return the ids the pushed view lists: the oldest ideas awaiting approval, then the newest ones."""
    pending = db.session.scalars(select(Item.id).where(Item.stage_id == stage.id, Item.pending.is_(True))
                                 .order_by(Item.id).limit(LISTED)).all()
    newest = db.session.scalars(select(Item.id).where(Item.stage_id == stage.id, Item.pending.is_(False))
                                .order_by(Item.id.desc()).limit(LISTED)).all()
    return [*pending, *newest]


def room_ids(stage: Stage, newest: bool) -> list[int]:
    """Return the ids of the items in the vote the room's wall may show, in order: the newest LISTED
    (`newest`, while ideas come in) or the first LISTED."""
    query = select(Item.id).where(Item.stage_id == stage.id, Item.hidden.is_(False),
                                  Item.merged_into_id.is_(None))  # Item.active
    ids = db.session.scalars(query.order_by(Item.id.desc() if newest else Item.id).limit(LISTED)).all()
    return sorted(ids)


def load(ids) -> dict[int, Item]:
    """Load items by id with what a screen shows of them (authors, what was merged into them), and
    the items they were merged into (a row names the idea it went into)."""
    by_id = _load(set(ids))
    by_id.update(_load({item.merged_into_id for item in by_id.values() if item.merged_into_id} - set(by_id)))
    return by_id


def _load(ids: set) -> dict[int, Item]:
    if not ids:
        return {}
    found = db.session.scalars(select(Item).where(Item.id.in_(ids)).options(
        selectinload(Item.merged), selectinload(Item.participant)))
    return {item.id: item for item in found}


def search(stage: Stage, words: str = "", show: str = "all", page: int = 0,
           size: int = PAGE) -> tuple[list[int], int]:
    """Return one page of the ids of a stage's items whose title or detail holds `words` (newest
    first), narrowed to `show` (one of SHOWS), and how many match in all."""
    query = select(Item.id).where(Item.stage_id == stage.id)
    words = words.strip()
    if words:
        like = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Item.title.ilike(like, escape="\\"), Item.detail.ilike(like, escape="\\")))
    if show == "pending":
        query = query.where(Item.pending.is_(True))
    elif show == "hidden":
        query = query.where(Item.hidden.is_(True), Item.pending.is_(False))
    elif show == "active":
        query = query.where(Item.hidden.is_(False), Item.merged_into_id.is_(None))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    ids = db.session.scalars(query.order_by(Item.id.desc()).offset(max(page, 0) * size).limit(size)).all()
    return list(ids), total


def words() -> dict[str, str]:
    """Return what console rows say, translated once per render: gettext per row took a third of it."""
    return {"facilitator": _("Facilitator"), "awaiting": _("awaiting approval"), "hidden": _("hidden"),
            "merged_into": _("merged into"), "undo": _("Undo merge"), "correct": _("Correct the title"),
            "corrected": _("Corrected title"), "save": _("Save"), "edit": _("Edit"), "show": _("Show"),
            "hide": _("Hide"), "approve": _("Approve"), "reject": _("Reject"),
            "to_room": _("Show to the room"), "let_browse": _("Let phones browse")}
