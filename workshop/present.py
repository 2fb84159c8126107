"""The projector: a full-screen page the room reads from 10 m away."""
from __future__ import annotations

from flask import Blueprint, render_template

from . import i18n, network
from .guard import workshop_route

bp = Blueprint("present", __name__)


@bp.route("/w/<code>/present")
@workshop_route(facilitator=True)
def projector(workshop):
    """Show the projector page, in the workshop's language; its content arrives over Socket.IO."""
    with i18n.workshop_locale(workshop):
        return render_template("present/projector.html", workshop=workshop,
                               qr=network.qr_svg(workshop.code),
                               join_url=network.display_url(workshop.code))
