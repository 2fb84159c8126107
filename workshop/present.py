"""The projector: a full-screen page the room reads from 10 m away."""
from __future__ import annotations

from flask import Blueprint, make_response, render_template
from markupsafe import Markup

from . import i18n, live, network
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


@bp.route("/w/<code>/preview")
@workshop_route(facilitator=True)
def phone_preview(workshop):
    """Show what phones see now (the shared phone view, in the workshop's language), inert: the
    console shows it small, so the facilitator knows what the room holds in its hands."""
    with i18n.workshop_locale(workshop):
        # B704 (Markup): the phone's view is autoescaped Jinja output (what phones are sent as HTML).
        view = Markup(live.phone_html(workshop))  # nosec B704
        response = make_response(render_template("present/phone_preview.html", workshop=workshop, view=view))
    # Framed by the console (same origin) only; nothing in it runs or can be pressed.
    response.headers["X-Frame-Options"] = "SAMEORIGIN"  # and frame-ancestors 'self' (_security_headers)
    return response
