"""What each screen shows, rendered: the live views of projector, console and phones.

views.py builds the data (`View`); this module renders it per audience and language
and caches what every phone shares (a join storm renders the phone's view once per
language, not once per phone).
"""
from __future__ import annotations

import time

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from . import i18n, views
from .extensions import db
from .flow.workshops import participant_count
from .models import Item, Workshop, utcnow
from .stages import KINDS, kind_of
from .stages.base import PHASE_LABELS
from .views import View, view_model

AUDIENCES = ("projector", "console", "phone")


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


def phone_html(workshop: Workshop, order: int | None = None) -> str:
    """Return the phones' view, rendered once per workshop version and language.

    Every phone of one language sees the same HTML, and it only changes through a
    facilitator action, which bumps workshop.version: a join storm renders it once
    per language, not once per phone.
    """
    cache = current_app.extensions.setdefault("charrette.phone_html", {})
    order = order if views.shuffled_now(workshop) else None  # one render for all orders otherwise
    key = (workshop.id, workshop.version, i18n.current(), order)
    html = cache.get(key)
    if html is None:
        if len(cache) > 512:
            cache.clear()
        html = cache[key] = render(view_model(workshop, "phone", order))
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
            "phase": stage.phase if stage else None, "participants": participant_count(workshop),
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


def state(workshop: Workshop) -> dict:
    """Return what every `view` event carries beside the HTML: stage, phase, timer, current language."""
    return {"rendered_at": time.time(), "timer": timer(workshop), "open": workshop.is_open,
            "stage_id": workshop.current_stage_id, "lang": i18n.current(),
            "phase": workshop.current_stage.phase if workshop.current_stage else None}


def payload(workshop: Workshop, audience: str, lang: str | None = None, order: int | None = None) -> dict:
    """Return the `view` event for an audience in a language: HTML plus the live numbers.

    The projector always speaks the workshop's language; phones and consoles the
    `lang` given (default: the current request's). `rendered_at` (epoch s) says when
    the tally was read; the benchmark times vote -> projector with it.
    """
    if audience == "projector":
        lang = i18n.workshop_language(workshop)
    with force_locale(lang or i18n.current()):
        common = state(workshop)
        if audience == "phone":
            return {"html": phone_html(workshop, order), **common}
        view = view_model(workshop, audience)
        return {"html": render(view), "participants": view.participants, "progress": view.progress,
                **common}


def phone_page_html(workshop: Workshop, mine: dict, start: int = 0, order: int | None = None) -> str:
    """Return the phone's view for its first HTTP load, with its own votes drawn in.

    A phone without votes in the stage (most of a join storm) gets the shared,
    cached HTML; one that has voted gets its choices rendered, so the page is
    right even when JavaScript never runs. `start` opens the ballot at a later page.
    """
    if not start and not any(mine.get(key) for key in ("dots", "choices", "notes", "ideas", "comments")):
        return phone_html(workshop, order)
    view = view_model(workshop, "phone", order)
    view.mine, view.start = mine, max(start, 0)
    return render(view)


def ballot_page(workshop: Workshop, start: int, order: int | None = None) -> str:
    """Return one more page of a phone's ballot (the cards from `start`), the same for every phone.

    Cached like the phone's view, per workshop version and language; phone.js draws
    the phone's own dots in.
    """
    cache = current_app.extensions.setdefault("charrette.ballot_pages", {})
    key = (workshop.id, workshop.version, i18n.current(), start, order)
    html = cache.get(key)
    if html is None:
        if len(cache) > 512:
            cache.clear()
        view = view_model(workshop, "phone", order)
        view.start = max(start, 0)
        html = cache[key] = render_template("live/ballot_page.html", v=view)
    return html
