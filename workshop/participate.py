"""The phone: enter a code, join, take part. No app, no account."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.routing import BaseConverter

from . import flow, realtime
from .errors import Refused
from .extensions import limiter
from .forms import CodeForm, JoinForm
from .limits import address_and_code, code_guesses, rate

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
    return render_template("participate/phone.html", workshop=workshop, participant=participant)
