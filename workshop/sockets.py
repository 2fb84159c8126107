"""Socket.IO: who is connected, as what; the handlers are the event table's (events.py).

A screen connects with auth {code, role} and joins its room (broadcast.room), then asks for
its view (`sync`), unless its page was drawn for it (auth `version`, see `connect`); each
event then runs as that screen: its role is checked, its workshop loaded, and
events.run does the rest. Refusals become `{"ok": false, "error": ...}` replies.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from functools import partial

from flask import request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, emit, join_room
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload, make_transient_to_detached

from . import broadcast, events, guard, i18n, limits, live
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
    token: str | None = None  # a phone's participant cookie, which PHONE_SOCKETS counts
    sign_in_id: int | None = None  # a console's or projector's sign-in (auth.end_sign_ins ends its screens)


CLIENTS: dict[str, Client] = {}
# Open sockets per participant (one phone's tabs), in this process: a phone cookie may open a few
# (a reload overlaps the old socket), not hundreds.
SOCKETS_PER_PHONE = 5
PHONE_SOCKETS: Counter[str] = Counter()
LOGGED: set[tuple[str, str]] = set()  # (event, error type) whose traceback was logged once


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
    if role != "phone" and not current_user.is_authenticated:
        raise ConnectionRefusedError(_("Sign in as this workshop's facilitator."))
    try:
        if role == "phone":  # plain values in one statement: a join storm connects thousands
            workshop_id, participant_id = access.phone_entry(code, token)
        else:
            workshop = access.get_workshop(code, facilitator=current_user)
            workshop_id, participant_id = workshop.id, None
    except Refused as refusal:
        if refusal.status in (403, 404) and not guard.wrong_code_allowed():
            raise ConnectionRefusedError(str(limits.TOO_FAST)) from None
        raise ConnectionRefusedError(refusal.message) from None
    if role == "phone":
        if participant_id is None:
            raise ConnectionRefusedError(_("Join the workshop first."))
        if PHONE_SOCKETS[token] >= SOCKETS_PER_PHONE:
            raise ConnectionRefusedError(_("This phone has too many open pages of the workshop. "
                                           "Close some, then reload."))
        PHONE_SOCKETS[token] += 1
    lang = i18n.workshop_language(workshop) if role == "projector" else i18n.current()
    CLIENTS[request.sid] = Client(workshop_id, role, participant_id, lang, token if participant_id else None,
                                  None if participant_id else current_user.sign_in.id)
    # The projector has one room; phones and consoles one per language. The screen then asks
    # for its view with `sync`.
    join_room(broadcast.room(workshop_id, role, None if role == "projector" else lang))
    if participant_id is not None:  # and the room of its ballot's order (views.ORDERS), for shuffled ballots
        join_room(broadcast.room(workshop_id, role, broadcast.ordered(lang, order_of(participant_id))))
    if role != "projector":
        broadcast.remember_language(workshop_id, role, lang)
    # A page the server drew for this screen (a phone's, with the workshop's `version`) needs no
    # `sync` unless the workshop changed since: asked only now that the socket is in its rooms, so
    # a change is either pushed to it or seen here. A join storm is one request less per phone.
    drawn = auth.get("version")
    if type(drawn) is int and access.version_of(workshop_id) != drawn:
        emit("stale")


def disconnect(*_args):
    """Forget a screen that went away."""
    client = CLIENTS.pop(request.sid, None)
    if client is not None and client.token is not None:
        PHONE_SOCKETS[client.token] -= 1
        if PHONE_SOCKETS[client.token] <= 0:
            del PHONE_SOCKETS[client.token]


def _load(client: Client, light: bool, fresh: bool = False):
    """Return the client's workshop (with its current stage) and participant, in one query each at most."""
    if light:  # the vote path: plain values, kept between votes (checked again by the vote), no ORM objects
        workshop = votes.live_workshop(client.workshop_id, fresh=fresh)
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
    if client.role != "phone" and not current_user.is_authenticated:  # signed out or expired since connect
        disconnect()
        socketio.server.disconnect(request.sid, namespace="/")
        return {"ok": False, "error": _("Sign in as this workshop's facilitator.")}
    for again in (False, True):
        db.session.info.pop(votes.CHECKED, None)
        try:
            workshop, participant = _load(client, light, fresh=again)
            if workshop is None:
                raise Refused(_("This workshop no longer exists."))
            if name == "sync":
                # A whole view per ask: limited per phone (all its tabs), or per socket for other screens.
                if not limits.allow("syncs", str(client.participant_id or request.sid)):
                    raise Refused(limits.TOO_FAST, 429)
                return {"ok": True, **sync(workshop, participant, client)}
            return events.run(name, workshop, participant, payload)
        except votes.Stale:  # this process's copy of the workshop was out of date: once more, read afresh
            db.session.rollback()
        except Refused as refusal:
            db.session.rollback()
            # Refused on this process's copy of the workshop: only if the workshop still says so.
            if (again or not light or db.session.info.pop(votes.CHECKED, False)
                    or votes.live_workshop(client.workshop_id, fresh=True) == workshop):
                return {"ok": False, "error": refusal.message}
        except DBAPIError as error:
            db.session.rollback()
            # The database dropped the connection (a restart): the pool was emptied, so once more on a new
            # one; a phone's event carries a client id, so running it twice never stores it twice.
            if again or not error.connection_invalidated or client.role != "phone":
                _log_failure(name, error)
                return {"ok": False, "error": _("Something went wrong; please try again.")}
        except Exception as error:
            db.session.rollback()
            _log_failure(name, error)
            return {"ok": False, "error": _("Something went wrong; please try again.")}
    return {"ok": False, "error": _("Something went wrong; please try again.")}


def _log_failure(name: str, error: Exception) -> None:
    """Log the first failure of a kind with its traceback; a flood of the same is one line each."""
    if (name, type(error).__name__) in LOGGED:
        log.error("%s failed: %s", name, type(error).__name__)
    else:
        LOGGED.add((name, type(error).__name__))
        log.exception("%s failed", name)


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


def end_screens(sign_in_ids) -> None:
    """Disconnect this process's consoles and projectors of sign-ins that just ended.

    (Another process's screens are refused at their next event, `handle`.)
    """
    ended = set(sign_in_ids)
    for sid, client in list(CLIENTS.items()):
        if client.sign_in_id in ended:
            CLIENTS.pop(sid, None)
            try:
                socketio.server.disconnect(sid, namespace="/")
            except (KeyError, ValueError):  # already gone
                pass


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
