"""The phone: enter a code, join, take part. No app, no account."""
from __future__ import annotations

import re
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape
from sqlalchemy import bindparam, exists, or_, select
from werkzeug.routing import BaseConverter

from . import batch, broadcast, events, guard, i18n, live, segments
from .errors import Refused
from .extensions import db
from .flow import access, workshops
from .forms import CodeForm, JoinForm
from .guard import workshop_route
from .limits import address_and_code, allow
from .models import Comment, Item, Vote, Workshop
from .stages import kind_of
from .views import order_of

bp = Blueprint("participate", __name__)
bp.add_app_template_global(segments.label, "segment_label")
bp.add_app_template_global(lambda key: str(segments.QUESTIONS.get(key, key)), "segment_question")


class CodeConverter(BaseConverter):
    """A join code as printed: six characters of the look-alike-free alphabet."""

    regex = "[2-9A-HJ-KMNP-Z]{6}"


@bp.record_once
def _register_converter(state):
    state.app.url_map.converters["joincode"] = CodeConverter


def token_for(code: str) -> str | None:
    """Return the participant token this browser holds for a workshop."""
    return (session.get("joined") or {}).get(code)


@bp.route("/", methods=["GET", "POST"])
def enter_code():
    """Ask for the workshop code (the page a phone lands on)."""
    form = CodeForm()
    if form.validate_on_submit():
        try:
            workshop = guard.lookup(form.code.data, open_only=True)
        except Refused as refusal:
            form.code.errors.append(refusal.message)
        else:
            return redirect(url_for("participate.phone", code=workshop.code))
    return render_template("participate/enter_code.html", form=form)


# A phone's page, to join or take part, in batch.one_trip: on PostgreSQL each read goes alone, and a
# join's one write with its BEGIN and COMMIT in one round trip (a changed name or group: one UPDATE).
@bp.route("/<joincode:code>")
@batch.one_trip()
@workshop_route(open_only=True, head_on=("GET",))
def short(workshop):
    """Open the short join URL printed on the projector and in the QR code: the join page itself.

    No redirect: in a join storm every request counts (the page's forms post to /j/<code>).
    """
    return _phone_response(workshop)


@bp.route("/j/<code>", methods=["GET", "POST"])
@batch.one_trip()
@workshop_route(open_only=True, head_on=("GET",))
def phone(workshop):
    """Join (consent in safeguarding mode, group, segment questions), then show the live phone page.

    Joins are counted per address and code (config.RATE_LIMITS["joins"]): one check of the counter,
    not Flask-Limiter's decorator, which cost a tenth of a join in a join storm.
    """
    if request.method == "POST" and not allow("joins", address_and_code()):
        abort(429)
    return _phone_response(workshop)


def _phone_response(workshop):
    """Answer with the phone's page, kept out of caches in safeguarding mode.

    A GET brings only the workshop's plain columns (its head): enough for a new phone's
    join page from the cache; anything else loads the whole workshop.
    """
    page = None if isinstance(workshop, Workshop) else _shared_join_page(workshop)
    if page is None:
        whole = workshop if isinstance(workshop, Workshop) else access.load(workshop)
        if whole is None:  # deleted since the lookup
            raise access.no_such(workshop.code)
        page = _phone(whole)
    response = make_response(page)
    if workshop.safeguarding:  # nothing for the back button to show from a cache once the phone has left
        response.headers["Cache-Control"] = "no-store"
    return response


JOIN_PAGE = "participate/join.html"


def _shared_join_page(head) -> Markup | None:
    """Return the join page a new phone gets, as drawn for the phones before it, or None.

    In a join storm every phone asks for the same page: it comes from `_page`'s cache
    with nothing more of the workshop loaded. None when this phone needs a page of its own
    (it posts, it has joined, a message waits for it) or the page is not drawn yet.
    """
    if request.method != "GET" or token_for(head.code) or "_flashes" in session:
        return None
    html = _pages().get(_page_key(JOIN_PAGE, head))
    return None if html is None else _fill(html, {})


def _phone(workshop):
    """Draw the consent screen, the join form or the live phone page, whichever this phone is at."""
    participant = access.participant_for(workshop, token_for(workshop.code))
    if participant is None or request.method == "POST" or request.args.get("edit") == "1":
        form = JoinForm(obj=participant)
        form.group.choices = [(g, g) for g in workshop.groups]
        consent = request.form.get("consent") == "yes" or (participant is not None
                                                             and participant.consented_at is not None)
        asking_consent = workshop.safeguarding and not consent
        if request.method == "POST" and request.form.get("step") == "consent":
            if consent:  # agreed: now the (optional) questions, drawn for this phone alone
                return _page(JOIN_PAGE, workshop, False, {}, form=JoinForm(formdata=None),
                             participant=participant, consent=True, questions=segments.asked(workshop))
        elif form.validate_on_submit():
            new = participant is None
            try:
                participant = workshops.join(workshop, participant, form.name.data or "", form.group.data,
                                             consent=consent, segment_answers=request.form)
            except Refused as refusal:
                form.group.errors.append(refusal.message)
            else:
                session.permanent = True
                session["joined"] = {**(session.get("joined") or {}), workshop.code: participant.token}
                broadcast.push(workshop, "join")
                # The phone page itself, not a redirect to it: one request less per phone in a
                # join storm (live.js turns this history entry into a GET, so a reload does not post).
                return _live_page(workshop, participant, gave_nothing=new)
        # The empty form a joining phone gets is the same for all of them; one with its
        # own answers or errors is drawn for it alone.
        shared = participant is None and not form.errors and request.method == "GET"
        return _page(JOIN_PAGE, workshop, shared, {}, form=form, participant=participant,
                     consent=not asking_consent, questions=segments.asked(workshop))
    return _live_page(workshop, participant)


def _live_page(workshop, participant, gave_nothing: bool = False):
    """Draw the live phone page of a phone that joined (`gave_nothing`: it joined just now)."""
    stage = workshop.current_stage
    mine = _mine(stage, participant, gave_nothing)
    who = " · ".join(part for part in (participant.group, participant.name) if part)
    return _page("participate/phone.html", workshop, True,
                 {"view": live.phone_page_html(workshop, mine, _page_start(), order_of(participant.id)),
                  "who": str(escape(who)),
                  # what a `sync` would answer, but the HTML: the page needs none (live.js)
                  "drawn": htmlsafe_json_dumps({"view": live.state(workshop),
                                                "mine": {"stage_id": stage.id, **mine} if stage else {}})})


NEUTRAL_NEXT = re.compile(r"^/j/[2-9A-HJ-KMNP-Z]{6}$")


@bp.route("/x")
def quick_exit():
    """Leave at once: the server forgets this phone (its tokens change), its cookies are cleared, and a
    neutral page replaces the workshop. `?next=/j/<code>` (self-paced: the next person) opens the join page.
    """
    for code, token in (session.get("joined") or {}).items():
        workshops.forget(code, token)
    session.clear()
    target = request.args.get("next", "")
    if NEUTRAL_NEXT.match(target):
        response = redirect(target)
    else:
        response = make_response(render_template("participate/neutral.html"))
    response.headers["Cache-Control"] = "no-store"
    # Honoured on HTTPS only; on the LAN's plain HTTP the page's script clears storage itself (exit.js).
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    response.delete_cookie(current_app.config.get("SESSION_COOKIE_NAME", "session"))
    response.delete_cookie(i18n.COOKIE)
    return response


def _page_start() -> int:
    """Return where the phone's ballot opens (`?from=`, the no-JavaScript "more" link)."""
    start = request.values.get("from", "0")
    return int(start) if start.isdigit() and len(start) < 7 else 0


@bp.route("/j/<code>/ballot")
@workshop_route(open_only=True)
def ballot(workshop):
    """Return the next page of the ballot (`?from=`) as HTML cards, for phone.js to add to the list."""
    participant = access.participant_for(workshop, token_for(workshop.code))
    if participant is None:
        raise Refused(_("Join the workshop first."), 403)
    return _fill(live.ballot_page(workshop, _page_start(), order_of(participant.id)), {})


# Whether a phone gave anything in a stage: every stage kind's `mine` is made of the phone's
# votes, ideas and comments there (each table has an index that starts with participant_id).
GAVE_ANYTHING = select(or_(*(
    exists().where(table.participant_id == bindparam("participant_id"),
                   table.stage_id == bindparam("stage_id"))
    for table in (Vote, Item, Comment))))


def _mine(stage, participant, gave_nothing: bool = False) -> dict:
    """Return what a phone gave in the current stage, for drawing its page.

    A phone that gave nothing (every phone of a join storm) gets the shared view
    either way: one indexed look costs far less than a kind's `mine`, and a phone that joined
    with this request (`gave_nothing`) needs none. A kind that keeps answers apart from these
    tables (`answers_apart`) is asked.
    """
    if stage is None:
        return {}
    kind = kind_of(stage)
    if not kind.answers_apart and (gave_nothing or not db.session.scalar(
            GAVE_ANYTHING, {"participant_id": participant.id, "stage_id": stage.id})):
        return {}
    return kind.mine(stage, participant)


# Placeholders in a rendered page, filled for each request: this phone's own parts, then this
# session's CSRF token and a fresh client id per phone form (in the page and in its view). Text
# people typed is escaped, so it can never contain a quote or `<!--`, nor look like one.
PARTS = re.compile(r"<!--fill:(\w+)-->")
TOKENS = re.compile(r'value="__(csrf|cid)__"')


def _page(template: str, workshop, shared: bool, parts: dict[str, str], **context) -> Markup:
    """Render a phone page, once per workshop version, language and address when `shared`.

    A join storm shows thousands of phones the same join form, and the same page
    around their view: only the placeholders differ. `parts` are this phone's own
    HTML (escaped or rendered), each given to the template as a `<!--fill:name-->`
    placeholder. A page with flashed messages waiting is drawn afresh: it shows them.
    """
    # B704 (Markup): a placeholder comment named by the caller's own keys ("view", "who"), no user text.
    context.update({name: Markup(f"<!--fill:{name}-->") for name in parts})  # nosec B704
    if shared and "_flashes" not in session:
        cache = _pages()
        key = _page_key(template, workshop)
        html = cache.get(key)
        if html is None:
            if len(cache) > 512:
                cache.clear()
            html = cache[key] = render_template(template, workshop=workshop, **context)
    else:
        html = render_template(template, workshop=workshop, **context)
    return _fill(html, parts)


def _pages() -> dict:
    """Return this process's drawn shared pages (see `_page`)."""
    return current_app.extensions.setdefault("charrette.phone_pages", {})


def _page_key(template: str, workshop) -> tuple:
    """Return what a shared page depends on: the workshop now (its version), the language, the URL."""
    return template, workshop.id, workshop.code, workshop.version, i18n.current(), request.full_path


def _fill(html: str, parts: dict[str, str]) -> Markup:
    """Put this request's CSRF token, fresh form ids and the phone's own parts into a page."""
    csrf = generate_csrf()
    html = PARTS.sub(lambda match: parts[match[1]], html)
    html = TOKENS.sub(lambda match: f'value="{csrf if match[1] == "csrf" else secrets.token_hex(12)}"', html)
    # B704 (Markup): the page is autoescaped Jinja output; only a CSRF token (URL-safe base64
    # and dots), hex ids and parts the caller escaped or rendered with Jinja are put into it.
    return Markup(html)  # nosec B704


# A phone's actions as plain form posts, for when JavaScript or the socket cannot run:
# the same events as the socket's (events.run: same checks, rules and rate limits).
PHONE_EVENTS = ("idea:add", "comment:add", "vote")


def _form_payload(workshop, participant) -> dict:
    """Turn a posted phone form into the socket event's payload.

    Two fields exist only in forms: `step` (+1 / -1 dot, made absolute from the
    stored dots) and `toggle` (tapping your current rank again takes it back).
    """
    payload = {k: v for k, v in request.form.items()
               if k not in ("csrf_token", "event", "step", "toggle", "from")}
    stage = workshop.current_stage
    if ("step" in request.form or "toggle" in request.form) and stage is not None:
        try:
            item_id = int(payload.get("item_id", ""))
            step = int(request.form.get("step", "0"))
        except ValueError:
            raise Refused(_("Invalid request.")) from None
        mine = kind_of(stage).mine(stage, participant)
        if "step" in request.form:
            payload["dots"] = max(0, (mine.get("dots") or {}).get(item_id, 0) + step)
        elif str((mine.get("choices") or {}).get(f"{item_id}:")) == payload.get("value"):
            payload["value"] = "0"
    return payload


@bp.route("/j/<code>/act", methods=["POST"])
@workshop_route(open_only=True)
def act(workshop):
    """Take a phone's idea, vote or comment posted as a form; show the phone page again."""
    participant = access.participant_for(workshop, token_for(workshop.code))
    if participant is None:
        flash(_("Join the workshop first."), "error")
        return redirect(url_for("participate.phone", code=workshop.code))
    event = request.form.get("event", "")
    try:
        if event not in PHONE_EVENTS:
            raise Refused(_("Invalid request."))
        events.run(event, workshop, participant, _form_payload(workshop, participant))
    except Refused as refusal:
        db.session.rollback()
        flash(str(refusal.message), "error")
    else:
        flash(_("Saved ✓"), "success")
    item_id = request.form.get("item_id", "")
    anchor = f"card-{item_id}" if item_id.isdigit() else None
    start = _page_start()  # back to the page of the ballot the form was on
    return redirect(url_for("participate.phone", code=workshop.code, _anchor=anchor,
                            **({"from": start} if start else {})))
