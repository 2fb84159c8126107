"""The read model: what each screen and the report may see of a stage (`View`).

`view_model` builds a live screen's view of the current stage (results only in the
room's view once revealed; the console sees a live tally privately); `stage_view`
builds the report's view of any stage (every item, merged and hidden ones too).
live.py renders views; report.py lays them out as a document.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import browse
from .extensions import db
from .flow.phases import steps
from .flow.workshops import participant_count
from .models import Comment, Item, Stage, Workshop
from .stages import kind_of
from .stages.base import PHASE_LABELS

BALLOT_PAGE = 30  # ideas per page of a phone's ballot: a thousand ideas would be megabytes per phone
# No position bias: each phone's ballot lists the items in one of ORDERS orders, shuffled per stage
# (the phone's order comes from its participant id, so it is the same after a reload). Pushed views
# stay shared: each is rendered once per language and order, not once per phone.
ORDERS = 6


def order_of(participant_id: int | None) -> int | None:
    """Return which of the ORDERS shuffled ballot orders a phone sees (None: no phone)."""
    return None if participant_id is None else participant_id % ORDERS


def shuffled_now(workshop: Workshop, stage: Stage | None = None) -> bool:
    """Tell whether phones list a stage's (default: the current one's) ballot in their own orders now."""
    stage = stage or workshop.current_stage
    return bool(stage and workshop.shuffle_ballots and kind_of(stage).shuffles and stage.phase == "vote")


def ballot_order(workshop: Workshop, stage: Stage, items: list, order: int | None) -> list:
    """Return a ballot's items in the phone's shuffled order (seeded by stage id and `order`), when the
    workshop shuffles ballots and the kind's vote is a ballot (`shuffles`) open now; else as given."""
    if order is None or not shuffled_now(workshop, stage):
        return items
    shuffled = list(items)
    random.Random(f"ballot:{stage.id}:{order}").shuffle(shuffled)  # noqa: S311 (an order, not a secret)
    return shuffled


@dataclass
class View:
    workshop: Workshop
    audience: str
    stage: Stage | None
    kind: Any
    items: list[Item] = field(default_factory=list)       # what this audience may list
    by_id: dict[int, Item] = field(default_factory=dict)  # every item of the stage
    results: list = field(default_factory=list)
    result_count: int | None = None  # rows in the whole tally, when `results` holds only its leaders
    revealed: bool = False
    progress: dict = field(default_factory=dict)
    participants: int = 0
    steps: tuple = (None, None)
    decision: list[Item] = field(default_factory=list)
    comments: dict[int, list[Comment]] = field(default_factory=dict)  # item id -> comments
    # One phone's own votes, only in the page a phone loads over HTTP (the no-JavaScript
    # path); pushed views are shared by every phone, and phone.js fills this in itself.
    mine: dict = field(default_factory=dict)
    # Phones' ballots are paged: the first item of this page and how many a page has.
    start: int = 0
    page: int = 0
    # A console's view of a stage with many items lists only a part of them (browse.py): how many
    # there are ({total, active, pending}) and the decision's choices it offers (None: the kind's all).
    counts: dict = field(default_factory=dict)
    choices: list | None = None

    @property
    def listed_only(self) -> bool:
        """True when this console view lists only a part of the stage's items (the rest is searched)."""
        return bool(self.counts) and self.counts["total"] > len(self.items)

    def count(self, what: str) -> int:
        """Return how many of the stage's items are `what`: "total", "active" or "pending"."""
        if what in self.counts:
            return self.counts[what]
        return sum(1 for item in self.items if what == "total" or getattr(item, what))

    @property
    def focus(self) -> Item | None:
        """The item the facilitator shows to the whole room, if any."""
        return self.by_id.get(self.setting("focus")) if self.stage else None

    @property
    def rows(self) -> int:
        """How many rows the whole tally has (`results` may be only its leaders)."""
        return len(self.results) if self.result_count is None else self.result_count

    @property
    def phase(self) -> str:
        return self.stage.phase if self.stage else "pending"

    @property
    def phase_label(self) -> str:
        return str(PHASE_LABELS.get(self.phase, self.phase))

    def label(self, stage: Stage) -> str:
        return str(kind_of(stage).label)

    def setting(self, name: str):
        return self.kind.setting(self.stage, name) if self.stage else None

    def chosen(self, item_id: int, criterion: str = ""):
        """Return this phone's value for an item (and criterion), or None."""
        return (self.mine.get("choices") or {}).get(f"{item_id}:{criterion}")

    def dots_on(self, item_id: int) -> int:
        """Return how many of this phone's dots are on an item."""
        return (self.mine.get("dots") or {}).get(item_id, 0)


def view_model(workshop: Workshop, audience: str, order: int | None = None) -> View:
    """Collect what `audience` may see of the workshop right now (a phone's ballot in its `order`)."""
    stage = workshop.current_stage
    kind = kind_of(stage) if stage else None
    view = View(workshop=workshop, audience=audience, stage=stage, kind=kind,
                participants=participant_count(workshop), page=BALLOT_PAGE)
    if stage is None:
        return view
    if audience in ("console", "projector"):
        counts = browse.counts(stage)
        if browse.bounded(stage, counts["total"]):
            return (bounded_console if audience == "console" else bounded_projector)(view, counts)
    # One query for the items with what the templates show of them (no query per item).
    options = [selectinload(Item.merged)]
    if audience == "console":
        options.append(selectinload(Item.participant))
    items = db.session.scalars(select(Item).where(Item.stage_id == stage.id)
                               .options(*options).order_by(Item.id)).all()
    view.by_id = {item.id: item for item in items}
    if audience == "console":
        view.items = list(items)
        view.steps = steps(workshop)
    else:
        view.items = ballot_order(workshop, stage, [item for item in items if item.active], order)
    view.revealed = stage.revealed_at is not None and stage.phase in ("results", "decided")
    if stage.phase in ("vote", "results", "decided"):
        view.progress = stage.aggregate["progress"] if stage.aggregate else kind.progress(stage)
        if view.revealed or audience == "console":
            view.results = results_of(stage)
    if audience == "console" or view.revealed:
        view.comments = comments_by_item(stage, hidden=audience == "console")
    view.decision = decided_items(stage, view.by_id)
    return view


def bounded_console(view: View, counts: dict) -> View:
    """Fill a console's view of a stage with many items: what needs attention, the newest, the leaders.

    Its size and cost stay the same at 2,000 ideas as at 50 (browse.LISTED of each); the
    console finds the others over HTTP (facilitate.browse_items).
    """
    stage, kind = view.stage, view.kind
    view.steps = steps(view.workshop)
    _bounded_numbers(view, counts, results=True)  # the console's live tally: before the reveal too
    listed = browse.listed_ids(stage)
    chosen = kind.decision_item_ids(stage.decision) if stage.decision else []
    view.by_id = browse.load([*listed, *(row.item_id for row in view.results), *chosen,
                              view.setting("focus") or 0])
    view.items = [view.by_id[i] for i in listed]
    view.comments = comments_by_item(stage, item_ids=listed)
    view.decision = decided_items(stage, view.by_id)
    # The decision offers the leaders in ranked order and whatever it already chose; the rest is searched.
    offered = [*(row.item_id for row in view.results), *chosen]
    view.choices = [(i, view.by_id[i].title) for i in dict.fromkeys(offered)
                    if i in view.by_id and view.by_id[i].active]
    return view


def bounded_projector(view: View, counts: dict) -> View:
    """Fill the projector's view of a stage with many items: only what the room is shown of them.

    The wall shows the newest ideas while they come in, the first of them while phones vote,
    the leaders once revealed (each kind's projector macro, up to browse.LISTED); loading every
    idea of 2,000 cost 100 ms at each new one.
    """
    stage, kind = view.stage, view.kind
    _bounded_numbers(view, counts, results=False)  # the room sees results once revealed
    shown = browse.room_ids(stage, newest=stage.phase == "collect")
    chosen = kind.decision_item_ids(stage.decision) if stage.decision else []
    view.by_id = browse.load([*shown, *(row.item_id for row in view.results), *chosen])
    view.items = [view.by_id[i] for i in shown]
    if view.revealed:
        view.comments = comments_by_item(stage, hidden=False, item_ids=list(view.by_id))
    view.decision = decided_items(stage, view.by_id)
    return view


def found_view(workshop: Workshop, stage: Stage, ids: list[int]) -> View:
    """Build a console's view of some of a stage's items (a page of a search), in the order given."""
    view = View(workshop=workshop, audience="console", stage=stage, kind=kind_of(stage))
    view.by_id = browse.load(ids)
    view.items = [view.by_id[i] for i in ids if i in view.by_id]
    return view


def _bounded_numbers(view: View, counts: dict, results: bool) -> None:
    """Fill a bounded view's counts, progress and the tally's leaders (browse.LISTED of them): always
    (`results`, the console), or once revealed."""
    stage, kind = view.stage, view.kind
    view.counts = counts
    view.revealed = stage.revealed_at is not None and stage.phase in ("results", "decided")
    if stage.phase not in ("vote", "results", "decided"):
        return
    view.progress = stage.aggregate["progress"] if stage.aggregate else kind.progress(stage)
    if not (results or view.revealed):
        return
    if stage.aggregate:
        rows = kind.thaw(stage.aggregate)
        view.results, view.result_count = rows[:browse.LISTED], len(rows)
    else:
        view.results, view.result_count = kind.leaders(stage, browse.LISTED)


def results_of(stage: Stage) -> list:
    """Return a stage's results: from its votes, or what was kept of them once they were deleted
    (retention)."""
    kind = kind_of(stage)
    return kind.thaw(stage.aggregate) if stage.aggregate else kind.results(stage)


def comments_by_item(stage: Stage, hidden: bool = True, item_ids=None) -> dict[int, list[Comment]]:
    """Return the stage's comments (with their authors) by item id, oldest first; without the
    hidden ones (and those awaiting approval) for the room; only on `item_ids` when given."""
    comments: dict[int, list[Comment]] = {}
    query = select(Comment).where(Comment.stage_id == stage.id).order_by(Comment.id)
    if item_ids is not None:
        query = query.where(Comment.item_id.in_(item_ids))
    if not hidden:
        query = query.where(Comment.hidden.is_(False))
    for comment in db.session.scalars(query.options(selectinload(Comment.participant))):
        comments.setdefault(comment.item_id, []).append(comment)
    return comments


def decided_items(stage: Stage, by_id: dict[int, Item]) -> list[Item]:
    """Return the items the stage's decision chose, in the decision's order."""
    return [by_id[i] for i in (stage.decision or {}).get("item_ids", []) if i in by_id]


def stage_view(workshop: Workshop, stage: Stage, participants: int) -> View:
    """Build one stage's view for the report: every item (merged and hidden too) and its results."""
    kind = kind_of(stage)
    items = db.session.scalars(select(Item).where(Item.stage_id == stage.id).options(
        selectinload(Item.merged), selectinload(Item.participant)).order_by(Item.id)).all()
    view = View(workshop=workshop, audience="report", stage=stage, kind=kind, items=list(items),
                by_id={item.id: item for item in items}, participants=participants,
                revealed=stage.revealed_at is not None)
    if stage.phase in ("vote", "results", "decided"):
        view.progress = stage.aggregate["progress"] if stage.aggregate else kind.progress(stage)
        view.results = results_of(stage)
    view.comments = comments_by_item(stage)
    view.decision = decided_items(stage, view.by_id)
    return view
