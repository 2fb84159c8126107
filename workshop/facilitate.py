"""The facilitator's pages: workshop list, creation, and the live console."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from . import flow, network, realtime
from .forms import WorkshopForm
from .limits import code_guesses

bp = Blueprint("facilitate", __name__)


@bp.route("/workshops")
@login_required
def index():
    """List the facilitator's own workshops."""
    return render_template("facilitate/index.html", workshops=current_user.workshops)


@bp.route("/workshops/new", methods=["GET", "POST"])
@login_required
def new():
    """Create a workshop from the campaign template."""
    form = WorkshopForm()
    if form.validate_on_submit():
        workshop = flow.create_workshop(
            current_user, title=form.title.data, topic=form.topic.data,
            description=form.description.data or "", groups=form.group_list(),
            collect_names=form.collect_names.data)
        flash(_("Workshop created. Its join code is %(code)s.", code=workshop.code), "success")
        return redirect(url_for("facilitate.console", code=workshop.code))
    return render_template("facilitate/new.html", form=form)


@bp.route("/w/<code>/console")
@login_required
@code_guesses
def console(code: str):
    """Show the live console that runs the session."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    return render_template("facilitate/console.html", workshop=workshop,
                           join_url=network.display_url(workshop.code))


@bp.route("/w/<code>/status", methods=["POST"])
@login_required
@code_guesses
def toggle_open(code: str):
    """Close a workshop (its code stops working) or open it again."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    flow.set_open(workshop, not workshop.is_open)
    realtime.push(workshop)
    flash(_("Workshop reopened.") if workshop.is_open else _("Workshop closed: its code no longer works."),
          "info")
    return redirect(url_for("facilitate.index"))


@bp.route("/w/<code>/qr.svg")
@login_required
@code_guesses
def qr(code: str):
    """Serve the join QR code as an SVG file (for printing on handouts)."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    svg = network.qr_svg(workshop.code, scale=10)
    return Response(f'<?xml version="1.0" encoding="utf-8"?>\n{svg}', mimetype="image/svg+xml")
