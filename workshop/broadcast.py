"""Rooms, and the one broadcast helper: after a change, every screen gets its view, in its language.

Rooms: one per workshop and audience (`room(workshop_id, audience)`), so the
projector, the console and the phones of a workshop each get their own view
and nothing of another workshop. Phones and consoles are further split by
language (`room(workshop_id, "phone", "nb")`): each view is rendered once per
language in use. The projector has one room and speaks the workshop's language.

The server sends one event, `view`, to a room. What it carries depends on what
changed (`push(workshop, change)`):
  "views"        a facilitator action: every screen's whole view (live.payload), at once;
  "votes moved"  the same, and phones read their own votes again (`resync`): a hide or a merge
                 moved them;
  "idea"         a new idea or comment: projector and console whole views, coalesced (at most
                 once a second);
  "vote"         the live numbers only (live.numbers, no HTML), coalesced per PUSH_INTERVAL, and
                 the console's live tally as `parts.tally` at most once a second;
  "join"         the live numbers only, coalesced.
Phones never get a broadcast per vote.
"""
from __future__ import annotations

import logging
import time

from flask import current_app

from . import i18n, live, views
from .coalescer import Coalescer
from .extensions import db, socketio
from .models import Workshop

log = logging.getLogger(__name__)
ROLES = ("projector", "console", "phone")
COALESCED = {"idea": {"full"}, "vote": {"numbers", "tally"}, "join": {"numbers"}}


def room(workshop_id: int, audience: str, lang: str | None = None) -> str:
    """Name the room of one audience of one workshop (of one language, for phones and consoles)."""
    return f"w{workshop_id}:{audience}:{lang}" if lang else f"w{workshop_id}:{audience}"


def _coalescer() -> Coalescer:
    return current_app.extensions["charrette.coalescer"]


def languages_in_use(workshop_id: int, audience: str) -> list[str]:
    """Return the languages of this audience's screens, so each is rendered once and only if needed.

    With a message queue the screens may sit on other processes, whose rooms this one
    cannot see: the languages screens connected with are kept in Redis (see
    `remember_language`), never forgotten while the workshop runs (a language too many
    costs one render, one too few a blank screen). If Redis cannot say, all of them.
    """
    coalescer = _coalescer()
    if coalescer.redis is not None:
        try:
            found = coalescer.redis.smembers(f"{coalescer.prefix}:langs:{workshop_id}:{audience}")
        except Exception:
            log.warning("reading the languages in use failed", exc_info=True)
            return list(i18n.LANGUAGES)
        found = {lang.decode() for lang in found}
        return [lang for lang in i18n.LANGUAGES if lang in found]
    rooms = socketio.server.manager.rooms.get("/", {})
    return [lang for lang in i18n.LANGUAGES if rooms.get(room(workshop_id, audience, lang))]


NOTE_AGAIN = 60.0  # seconds: a language this process noted is noted in Redis again at most this often


def remember_language(workshop_id: int, audience: str, lang: str) -> None:
    """With several processes: note in Redis that a screen of `audience` speaks `lang`.

    Once a minute per process at most, not once per screen: in a join storm every phone's
    socket would otherwise be a Redis round trip to note what the first phone noted. The key
    lives 7 days; a Redis that lost it (a restart) has it again within the minute.
    """
    coalescer = _coalescer()
    if coalescer.redis is None:
        return
    key = f"{coalescer.prefix}:langs:{workshop_id}:{audience}"
    if time.monotonic() < coalescer.noted.get((key, lang), 0.0):
        return
    try:
        coalescer.redis.pipeline().sadd(key, lang).expire(key, 7 * 24 * 3600).execute()
    except Exception:  # then other processes render every language for it, as they did before
        log.warning("noting a language in use failed", exc_info=True)
    else:
        coalescer.noted[(key, lang)] = time.monotonic() + NOTE_AGAIN


def push(workshop, change: str = "views") -> None:
    """Tell a workshop's screens that something changed: the one broadcast helper (see above)."""
    if change in ("views", "votes moved"):
        send_views(workshop, ROLES, **({"resync": True} if change == "votes moved" else {}))
        return
    needs = COALESCED[change]
    if current_app.config["PUSH_INTERVAL"] > 0:
        _coalescer().mark(workshop.id, needs)
        return
    full = db.session.get(Workshop, workshop.id)  # PUSH_INTERVAL 0 (tests): at once
    if full is None:
        return
    if "full" in needs:
        send_views(full)
    else:
        send_numbers(full, tally="tally" in needs)


def send_views(workshop: Workshop, audiences=("projector", "console"), **extra) -> None:
    """Send every screen of the given audiences its current view of the workshop, in its language."""
    coalesced = set(audiences) != set(ROLES)
    for audience in audiences:
        if audience == "projector":
            socketio.emit("view", {**live.payload(workshop, audience), "coalesced": coalesced, **extra},
                          to=room(workshop.id, audience))
            continue
        # While a ballot is shuffled, each of its orders has its view, sent to its phones' room.
        orders = range(views.ORDERS) if audience == "phone" and views.shuffled_now(workshop) else [None]
        for lang in languages_in_use(workshop.id, audience):
            for order in orders:
                view = live.payload(workshop, audience, lang, order)
                socketio.emit("view", {**view, "coalesced": coalesced, **extra},
                              to=room(workshop.id, audience, ordered(lang, order)))


def ordered(lang: str, order: int | None) -> str:
    """Name a phones' room: of a language, or of a language and one ballot order (views.ORDERS)."""
    return lang if order is None else f"{lang}.{order}"


def send_numbers(workshop: Workshop, tally: bool = True) -> None:
    """Send projector and console the live numbers only (no HTML but the console's tally)."""
    figures = live.numbers(workshop)
    socketio.emit("view", figures, to=room(workshop.id, "projector"))
    for lang in languages_in_use(workshop.id, "console"):  # consoles have one room per language
        parts = live.tally(workshop, lang) if tally else {}
        socketio.emit("view", {**figures, **parts}, to=room(workshop.id, "console", lang))


def init_app(app) -> None:
    """Give the app its coalescer (one per process)."""
    app.extensions["charrette.coalescer"] = Coalescer(app, send_views, send_numbers)
