"""Socket.IO: who is connected, as what; the handlers are the event table's (events.py).

A screen connects with auth {code, role} and joins its room (broadcast.room); each
event then runs as that screen: its role is checked, its workshop loaded, and
events.run does the rest. Refusals become `{"ok": false, "error": ...}` replies.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from flask import request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy.orm import joinedload, make_transient_to_detached

from . import broadcast, events, i18n, limits, live
from .auth import sign_in_expired
from .errors import Refused
from .extensions import db, socketio
from .flow import access, votes
from .models import Participant, Workshop
from .stages import kind_of
from .views import order_of

log = logging.getLogger(__name__)


@dataclass
class Client:
    workshop_id: int
    role: str
    participant_id: int | None = None
    lang: str = i18n.DEFAULT


CLIENTS: dict[str, Client] = {}


def connect(auth):
    """A screen connects with auth {code, role}; refuse anyone not entitled to it.

    Who may ask is checked before the code is looked up, so a refusal never tells a
    stranger whether a code exists; a signed-in facilitator's wrong codes are
    counted like wrong codes typed on the join page.
    """
    if not isinstance(auth, dict) or auth.get("role") not in broadcast.ROLES or not isinstance(
            auth.get("code"), str):
        raise ConnectionRefusedError(_("Invalid connection."))
    role, code = auth["role"], access.normalise_code(auth["code"])
    token = (session.get("joined") or {}).get(code)
    if role == "phone" and not token:
        raise ConnectionRefusedError(_("Join the workshop first."))
    if role != "phone" and (not current_user.is_authenticated or sign_in_expired()):
        raise ConnectionRefusedError(_("Sign in as this workshop's facilitator."))
    if not limits.allowed_now("code_guesses", limits.remote_address()):
        raise ConnectionRefusedError(str(limits.TOO_FAST))
    try:
        workshop = access.get_workshop(code, facilitator=None if role == "phone" else current_user,
                                       open_only=(role == "phone"))
    except Refused as refusal:
        if refusal.status in (403, 404):
            limits.allow("code_guesses", limits.remote_address())
        raise ConnectionRefusedError(refusal.message) from None
    participant = None
    if role == "phone":
        participant = access.participant_for(workshop, token)
        if participant is None:
            raise ConnectionRefusedError(_("Join the workshop first."))
    lang = i18n.workshop_language(workshop) if role == "projector" else i18n.current()
    CLIENTS[request.sid] = Client(workshop.id, role, participant.id if participant else None, lang)
    # The projector has one room; phones and consoles one per language. The screen then asks
    # for its view with `sync`.
    join_room(broadcast.room(workshop.id, role, None if role == "projector" else lang))
    if participant is not None:  # and the room of its ballot's order (views.ORDERS), for shuffled ballots
        join_room(broadcast.room(workshop.id, role, broadcast.ordered(lang, order_of(participant.id))))
    if role != "projector":
        broadcast.remember_language(workshop.id, role, lang)


def disconnect(*_args):
    """Forget a screen that went away."""
    CLIENTS.pop(request.sid, None)


def _load(client: Client, light: bool):
    """Return the client's workshop (with its current stage) and participant, in one query each at most."""
    if light:  # the vote path: plain values from one query, no ORM objects
        workshop = votes.live_workshop(client.workshop_id)
        participant = votes.LiveParticipant(client.participant_id) if client.participant_id else None
        return workshop, participant
    workshop = db.session.get(Workshop, client.workshop_id, options=[joinedload(Workshop.current_stage)])
    participant = None
    if client.participant_id:
        # Checked when the socket connected, and only deleted with its workshop: attach it
        # without a query; what a handler reads of it loads on access.
        participant = Participant(id=client.participant_id)
        make_transient_to_detached(participant)
        participant = db.session.merge(participant, load=False)
    return workshop, participant


def handle(name: str, roles: tuple[str, ...], light: bool, payload=None) -> dict:
    """Run one event for the socket that sent it, as its role; turn refusals into error replies."""
    client = CLIENTS.get(request.sid)
    if client is None or client.role not in roles:
        return {"ok": False, "error": _("You are not allowed to do that.")}
    try:
        workshop, participant = _load(client, light)
        if workshop is None:
            raise Refused(_("This workshop no longer exists."))
        if name == "sync":
            return {"ok": True, **sync(workshop, participant, client)}
        return events.run(name, workshop, participant, payload)
    except Refused as refusal:
        db.session.rollback()
        return {"ok": False, "error": refusal.message}
    except Exception:
        db.session.rollback()
        log.exception("%s failed", name)
        return {"ok": False, "error": _("Something went wrong; please try again.")}


def sync(workshop, participant, client: Client) -> dict:
    """Any screen asks for its whole current state (on connecting, and after a reconnect)."""
    stage = workshop.current_stage
    mine = {}
    if participant is not None and stage is not None:
        mine = {"stage_id": stage.id, **kind_of(stage).mine(stage, participant)}
    return {"view": live.payload(workshop, client.role, client.lang, order_of(client.participant_id)),
            "mine": mine}


def init_app(app) -> None:
    """Register the connection handlers and one handler per event of the table, plus `sync`."""
    broadcast.init_app(app)
    socketio.on_event("connect", connect)
    socketio.on_event("disconnect", disconnect)
    socketio.on_event("sync", partial(handle, "sync", broadcast.ROLES, False))
    for name, event in events.EVENTS.items():
        socketio.on_event(name, partial(handle, name, event.roles, event.light))


def forget(workshop_id: int) -> None:
    """Drop this process's sockets of a deleted workshop, so none acts on a reused id."""
    for sid, client in list(CLIENTS.items()):
        if client.workshop_id == workshop_id:
            CLIENTS.pop(sid, None)
            try:
                socketio.server.disconnect(sid, namespace="/")
            except (KeyError, ValueError):  # already gone
                pass
    for audience in broadcast.ROLES:
        socketio.close_room(broadcast.room(workshop_id, audience))
