"""The join address on the console and the projector: show it, switch it, follow network changes.

Which address is in use is `network`'s business; this blueprint lets the facilitator
pick another (with several network cards) and tells every open projector and console
the new join URL and QR code at once, over Socket.IO, so nothing is restarted or reloaded.

Event the server sends, to `broadcast.room(workshop_id, "projector")` and to each
console's `broadcast.room(workshop_id, "console", lang)`:

  address  {reachable, base, join, qr, in_use, choices: [{address, label}]}

when the facilitator switches the address, and when `watch` sees the network change.
"""
from __future__ import annotations

import logging

from flask import Blueprint, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from . import broadcast, network, sockets
from .extensions import db, socketio
from .guard import workshop_route
from .models import Workshop

log = logging.getLogger(__name__)
bp = Blueprint("address", __name__)
bp.app_template_global("join_address")(network.current)

EVENT = "address"
WATCH_SECONDS = 3.0  # how soon an open projector shows the address of a network joined meanwhile


def payload(code: str, join: network.JoinAddress) -> dict:
    """Describe one workshop's join address for a projector or console to show."""
    return {"reachable": join.reachable,
            "base": network.display_url(code, join.url).rsplit("/", 1)[0],
            "join": network.display_url(code, join.url),
            "qr": str(network.qr_svg(code, base=join.url)),
            "in_use": join.in_use.address if join.in_use else None,
            "choices": [{"address": c.address, "label": c.label} for c in join.choices]}


def push_all(join: network.JoinAddress) -> None:
    """Send every projector and console open on this process its workshop's join address."""
    rooms: dict[int, set[str]] = {}
    for client in list(sockets.CLIENTS.values()):
        if client.role in ("projector", "console"):
            lang = None if client.role == "projector" else client.lang
            name = broadcast.room(client.workshop_id, client.role, lang)
            rooms.setdefault(client.workshop_id, set()).add(name)
    for workshop_id, names in rooms.items():
        workshop = db.session.get(Workshop, workshop_id)
        if workshop is None:
            continue
        data = payload(workshop.code, join)
        for name in names:
            socketio.emit(EVENT, data, to=name)


@bp.route("/w/<code>/address")
@workshop_route(facilitator=True)
def show(workshop):
    """Return the join address as the projector and console show it (they ask again on reconnecting)."""
    return jsonify(payload(workshop.code, network.current()))


@bp.route("/w/<code>/address", methods=["POST"])
@workshop_route(facilitator=True)
def choose(workshop):
    """Send phones to another of this laptop's addresses; every projector and console follows."""
    wants_json = request.accept_mimetypes.best == "application/json"
    chosen = network.choose(request.form.get("address", ""))
    if chosen is None:
        message = (_("That address is no longer on this laptop: pick another.") if network.switchable()
                   else _("PUBLIC_URL is set: phones always join there."))
        if wants_json:
            return jsonify(ok=False, error=message), 409
        flash(message, "error")
    else:
        join = network.current()
        push_all(join)
        if wants_json:
            return jsonify(ok=True, **payload(workshop.code, join))
        flash(_("Phones now join at %(url)s.", url=network.display_url(workshop.code, join.url)), "success")
    return redirect(url_for("facilitate.console", code=workshop.code))


def look(app, seen: network.JoinAddress | None) -> network.JoinAddress:
    """List the interfaces afresh; if the join address changed since `seen`, tell the open screens."""
    with app.app_context():
        join = network.current(fresh=True)
        if seen is not None and join != seen:
            if join.reachable:
                log.info("phones now join at %s (%s)", join.url, join.in_use.interface)
            else:
                log.warning("phones cannot reach this laptop any more: it is on no network")
            push_all(join)
    return join


def watch(app) -> None:
    """Push the new join address to open screens whenever the network changes (`python wsgi.py`).

    Looks every WATCH_SECONDS: the laptop that turns its hotspot on after starting
    shows the QR code on the projector within seconds. Not with PUBLIC_URL, whose
    address never changes.
    """
    if app.config["PUBLIC_URL"]:
        return

    def run():
        seen = None
        while True:
            try:
                seen = look(app, seen)
            except Exception:  # a failed look must not end the watching
                log.exception("checking the network failed")
            socketio.sleep(WATCH_SECONDS)

    socketio.start_background_task(run)
