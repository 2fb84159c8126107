"""What each screen shows: the view model of a workshop's current stage, rendered.

One function builds the data (`view_model`), one renders it for an audience
(`render`). Results are only in the room's view once revealed; the console
sees a live tally privately.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import flow, i18n
from .extensions import db
from .models import Comment, Item, Stage, Workshop, utcnow
from .stages import KINDS, LABELS, kind_of
from .stages.base import PHASE_LABELS

AUDIENCES = ("projector", "console", "phone")
BALLOT_PAGE = 30  # ideas per page of a phone's ballot: a thousand ideas would be megabytes per phone


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
        return str(LABELS.get(stage.kind, stage.kind))

    def setting(self, name: str):
        return self.stage.setting(name) if self.stage else None

    def chosen(self, item_id: int, criterion: str = ""):
        """Return this phone's value for an item (and criterion), or None."""
        return (self.mine.get("choices") or {}).get(f"{item_id}:{criterion}")

    def dots_on(self, item_id: int) -> int:
        """Return how many of this phone's dots are on an item."""
        return (self.mine.get("dots") or {}).get(item_id, 0)


def view_model(workshop: Workshop, audience: str) -> View:
    """Collect what `audience` may see of the workshop right now."""
    stage = workshop.current_stage
    kind = kind_of(stage) if stage else None
    view = View(workshop=workshop, audience=audience, stage=stage, kind=kind,
                participants=flow.participant_count(workshop), page=BALLOT_PAGE)
    if stage is None:
        return view
    # One query for the items with what the templates show of them (no query per item).
    options = [selectinload(Item.merged)]
    if audience == "console":
        options.append(selectinload(Item.participant))
    items = db.session.scalars(select(Item).where(Item.stage_id == stage.id)
                               .options(*options).order_by(Item.id)).all()
    view.by_id = {item.id: item for item in items}
    if audience == "console":
        view.items = list(items)
        view.steps = flow.steps(workshop)
    else:
        view.items = [item for item in items if item.active]
    view.revealed = stage.revealed_at is not None and stage.phase in ("results", "decided")
    if stage.phase in ("vote", "results", "decided"):
        view.progress = kind.progress(stage)
        if view.revealed or audience == "console":
            view.results = kind.results(stage)
    if audience == "console" or view.revealed:
        view.comments = comments_by_item(stage)
    view.decision = decided_items(stage, view.by_id)
    return view


def comments_by_item(stage: Stage) -> dict[int, list[Comment]]:
    """Return the stage's comments (with their authors) by item id, oldest first."""
    comments: dict[int, list[Comment]] = {}
    query = select(Comment).where(Comment.stage_id == stage.id).order_by(Comment.id)
    for comment in db.session.scalars(query.options(selectinload(Comment.participant))):
        comments.setdefault(comment.item_id, []).append(comment)
    return comments


def decided_items(stage: Stage, by_id: dict[int, Item]) -> list[Item]:
    """Return the items the stage's decision chose, in the decision's order."""
    return [by_id[i] for i in (stage.decision or {}).get("item_ids", []) if i in by_id]


def render(view: View) -> str:
    """Render the live part of one audience's screen as HTML."""
    return render_template(f"live/{view.audience}.html", v=view,
                           phase_names={k: str(v) for k, v in PHASE_LABELS.items()},
                           stage_kinds=[(key, str(kind.label)) for key, kind in KINDS.items()])


def timer(workshop: Workshop) -> dict | None:
    """Return the countdown as milliseconds left, or None when no timer runs."""
    if workshop.timer_ends_at is None:
        return None
    left = (workshop.timer_ends_at - utcnow()).total_seconds()
    return {"left_ms": max(int(left * 1000), 0), "total_s": workshop.timer_seconds}


def phone_html(workshop: Workshop) -> str:
    """Return the phones' view, rendered once per workshop version and language.

    Every phone of one language sees the same HTML, and it only changes through a
    facilitator action, which bumps workshop.version: a join storm renders it once
    per language, not once per phone.
    """
    cache = current_app.extensions.setdefault("charrette.phone_html", {})
    key = (workshop.id, workshop.version, i18n.current())
    html = cache.get(key)
    if html is None:
        if len(cache) > 512:
            cache.clear()
        html = cache[key] = render(view_model(workshop, "phone"))
    return html


def numbers(workshop: Workshop) -> dict:
    """Return a `view` event with the live numbers only, for projector and console while votes come in.

    No HTML: the page keeps its view and updates the numbers in place
    (`[data-num]`, `[data-bar]`); the room never gets results before the reveal.
    """
    read_at = time.time()  # before the reads: every vote committed earlier is in these numbers
    stage = workshop.current_stage
    voting = stage is not None and stage.phase in ("vote", "results", "decided")
    progress = kind_of(stage).progress(stage) if voting else {}
    return {"numbers": True, "coalesced": True, "rendered_at": read_at, "timer": timer(workshop),
            "open": workshop.is_open, "stage_id": workshop.current_stage_id,
            "phase": stage.phase if stage else None, "participants": flow.participant_count(workshop),
            "progress": progress}


def tally(workshop: Workshop, lang: str) -> dict:
    """Return the console's live tally in a language as a part of a numbers push (`parts.tally`)."""
    stage = workshop.current_stage
    if stage is None or stage.phase != "vote":
        return {}
    with force_locale(lang):
        return {"parts": {"tally": render_template("live/tally.html", v=tally_view(workshop))}}


TALLY_ROWS = 20  # the leaders the console's live tally lists while votes come in (live/tally.html)


def tally_view(workshop: Workshop) -> View:
    """Return what the console's live tally shows: the results and the items its rows name.

    It is re-rendered every second while votes come in, and blocks the server while it
    renders: the kind ranks only the leaders (`leaders`, in SQL for ideas: 2,000 ideas took
    34 ms ranked in Python) and the leaders' titles are all the generic bars need. Kinds
    with their own tally macro (a handful of prepared concepts or drafts, shown with their
    comments) get the whole view.
    """
    stage = workshop.current_stage
    kind = kind_of(stage)
    if hasattr(current_app.jinja_env.get_template(kind.template).module, "tally"):
        return view_model(workshop, "console")
    rows, total = kind.leaders(stage, TALLY_ROWS)
    view = View(workshop=workshop, audience="console", stage=stage, kind=kind, results=rows,
                result_count=total)
    leaders = [row.item_id for row in rows]
    view.by_id = {item.id: item for item in db.session.scalars(select(Item).where(Item.id.in_(leaders)))}
    return view


def payload(workshop: Workshop, audience: str, lang: str | None = None) -> dict:
    """Return the `view` event for an audience in a language: HTML plus the live numbers.

    The projector always speaks the workshop's language; phones and consoles the
    `lang` given (default: the current request's). `rendered_at` (epoch s) says when
    the tally was read; the benchmark times vote -> projector with it.
    """
    if audience == "projector":
        lang = workshop.language if workshop.language in i18n.LANGUAGES else i18n.DEFAULT
    with force_locale(lang or i18n.current()):
        common = {"rendered_at": time.time(), "timer": timer(workshop), "open": workshop.is_open,
                  "stage_id": workshop.current_stage_id, "lang": i18n.current(),
                  "phase": workshop.current_stage.phase if workshop.current_stage else None}
        if audience == "phone":
            return {"html": phone_html(workshop), **common}
        view = view_model(workshop, audience)
        return {"html": render(view), "participants": view.participants, "progress": view.progress,
                **common}


def phone_page_html(workshop: Workshop, mine: dict, start: int = 0) -> str:
    """Return the phone's view for its first HTTP load, with its own votes drawn in.

    A phone without votes in the stage (most of a join storm) gets the shared,
    cached HTML; one that has voted gets its choices rendered, so the page is
    right even when JavaScript never runs. `start` opens the ballot at a later page.
    """
    if not start and not any(mine.get(key) for key in ("dots", "choices", "notes", "ideas", "comments")):
        return phone_html(workshop)
    view = view_model(workshop, "phone")
    view.mine, view.start = mine, max(start, 0)
    return render(view)


def ballot_page(workshop: Workshop, start: int) -> str:
    """Return one more page of a phone's ballot (the cards from `start`), the same for every phone.

    Cached like the phone's view, per workshop version and language; phone.js draws
    the phone's own dots in.
    """
    cache = current_app.extensions.setdefault("charrette.ballot_pages", {})
    key = (workshop.id, workshop.version, i18n.current(), start)
    html = cache.get(key)
    if html is None:
        if len(cache) > 512:
            cache.clear()
        view = view_model(workshop, "phone")
        view.start = max(start, 0)
        html = cache[key] = render_template("live/ballot_page.html", v=view)
    return html
