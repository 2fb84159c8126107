"""The phone: enter a code, join, take part. No app, no account."""
from __future__ import annotations

import re
import secrets

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from werkzeug.routing import BaseConverter

from . import flow, limits, live, realtime
from .errors import Refused
from .extensions import db, limiter
from .forms import CodeForm, JoinForm
from .limits import address_and_code, code_guesses, rate
from .stages import kind_of

bp = Blueprint("participate", __name__)


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
@code_guesses
def enter_code():
    """Ask for the workshop code (the page a phone lands on)."""
    form = CodeForm()
    if form.validate_on_submit():
        try:
            workshop = flow.get_workshop(form.code.data, open_only=True)
        except Refused as refusal:
            form.code.errors.append(refusal.message)
        else:
            return redirect(url_for("participate.phone", code=workshop.code))
    return render_template("participate/enter_code.html", form=form)


@bp.route("/<joincode:code>")
def short(code: str):
    """Follow the short join URL printed on the projector and in the QR code."""
    return redirect(url_for("participate.phone", code=code))


@bp.route("/j/<code>", methods=["GET", "POST"])
@code_guesses
@limiter.limit(rate("joins"), key_func=address_and_code, methods=["POST"])
def phone(code: str):
    """Join (name, stakeholder group), then show the live phone page."""
    workshop = flow.get_workshop(code, open_only=True)
    participant = flow.participant_for(workshop, token_for(workshop.code))
    form = JoinForm(obj=participant)
    form.group.choices = [(g, g) for g in workshop.groups]
    editing = request.args.get("edit") == "1"
    if form.validate_on_submit():
        participant = flow.join(workshop, token_for(workshop.code), form.name.data or "", form.group.data)
        session.permanent = True
        session["joined"] = {**(session.get("joined") or {}), workshop.code: participant.token}
        realtime.push_soon(workshop.id)
        return redirect(url_for("participate.phone", code=workshop.code))
    if participant is None or editing or form.errors:
        return render_template("participate/join.html", workshop=workshop, form=form,
                               participant=participant)
    stage = workshop.current_stage
    mine = kind_of(stage).mine(stage, participant) if stage else {}
    return render_template("participate/phone.html", workshop=workshop, participant=participant,
                           view_html=_with_form_tokens(live.phone_page_html(workshop, mine, _page_start())))


def _page_start() -> int:
    """Return where the phone's ballot opens (`?from=`, the no-JavaScript "more" link)."""
    start = request.values.get("from", "0")
    return int(start) if start.isdigit() and len(start) < 7 else 0


@bp.route("/j/<code>/ballot")
def ballot(code: str):
    """Return the next page of the ballot (`?from=`) as HTML cards, for phone.js to add to the list."""
    workshop = flow.get_workshop(code, open_only=True)
    if flow.participant_for(workshop, token_for(workshop.code)) is None:
        raise Refused(_("Join the workshop first."), 403)
    return _with_form_tokens(live.ballot_page(workshop, _page_start()))


def _with_form_tokens(html: str) -> Markup:
    """Fill the phone forms' placeholders: this session's CSRF token, a fresh client id per form."""
    html = html.replace('value="__csrf__"', f'value="{generate_csrf()}"')
    html = re.sub(r'value="__cid__"', lambda _m: f'value="{secrets.token_hex(12)}"', html)
    # B704 (Markup): the HTML is the autoescaped live view rendered by Jinja; only a CSRF token
    # (URL-safe base64 and dots) and hex ids are put into it here, no participant text.
    return Markup(html)  # nosec B704


# A phone's actions as plain form posts, for when JavaScript or the socket cannot run:
# the same handlers as the socket events, with the same per-participant rate limits.
PHONE_ACTIONS = {
    "idea:add": (realtime.phone_adds_idea, "ideas"),
    "comment:add": (realtime.phone_comments, "ideas"),
    "vote": (realtime.phone_votes, "votes"),
}


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
def act(code: str):
    """Take a phone's idea, vote or comment posted as a form; show the phone page again."""
    workshop = flow.get_workshop(code, open_only=True)
    participant = flow.participant_for(workshop, token_for(workshop.code))
    if participant is None:
        flash(_("Join the workshop first."), "error")
        return redirect(url_for("participate.phone", code=workshop.code))
    handler, limit = PHONE_ACTIONS.get(request.form.get("event", ""), (None, None))
    try:
        if handler is None:
            raise Refused(_("Invalid request."))
        if not limits.allow(limit, str(participant.id)):
            raise Refused(limits.TOO_FAST, 429)
        handler(workshop, participant, _form_payload(workshop, participant))
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
