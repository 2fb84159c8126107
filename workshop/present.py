"""The projector: a full-screen page the room reads from 10 m away."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from . import flow, i18n, network
from .limits import code_guesses

bp = Blueprint("present", __name__)


@bp.route("/w/<code>/present")
@login_required
@code_guesses
def projector(code: str):
    """Show the projector page, in the workshop's language; its content arrives over Socket.IO."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    with i18n.workshop_locale(workshop):
        return render_template("present/projector.html", workshop=workshop,
                               qr=network.qr_svg(workshop.code),
                               join_url=network.display_url(workshop.code))
