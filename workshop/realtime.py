"""Socket.IO: who is connected where, what each role may send, and the one broadcast helper.

Rooms: one per workshop and audience (`room(workshop_id, audience)`), so the
projector, the console and the phones of a workshop each get their own view
and nothing of another workshop. Phones and consoles are further split by
language (`room(workshop_id, "phone", "nb")`): each view is rendered once per
language in use and each screen gets its own language's HTML. The projector
has one room and speaks the workshop's language.

Events a screen sends (each replies through its acknowledgement with
`{"ok": true, ...}` or `{"ok": false, "error": "<message to show>"}`):

  any role   sync                       -> {"view": <view payload>, "mine": {...}}
  phone      idea:add {cid, title, detail}   -> {"item": {id, title}}
  phone      vote {cid, item_id, dots | value [, criterion, note]} -> {"mine": {...}, "at": <epoch s>}
  phone      comment:add {cid, item_id, tag, text}                -> {"comment": {id}, "mine": {...}}
  console    stage:go {stage_id, phase}, stage:settings {stage_id, ...},
             item:add {title, detail}, item:hide {item_id, hidden},
             item:merge {source_id, target_id}, timer:start {seconds}, timer:stop,
             results:reveal {stage_id, revealed}, stage:decide {stage_id, item_ids,
             rationale, minority_view, primary_id, verdicts}, stage:notes {stage_id, notes},
             stage:focus {stage_id, item_id}, stage:edit {stage_id, title, prompt},
             agenda:add {kind}, agenda:remove {stage_id}, agenda:move {stage_id, offset}

Events the server sends: `view` (see live.payload), to a room on every
facilitator action and, coalesced, to projector and console as votes arrive.
Phones never get a broadcast per vote.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import wraps

from flask import current_app, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from . import flow, forms, i18n, limits, live
from .auth import sign_in_expired
from .errors import Refused
from .extensions import db, socketio
from .models import Participant, Workshop
from .stages import kind_of

log = logging.getLogger(__name__)
ROLES = ("projector", "console", "phone")


@dataclass
class Client:
    workshop_id: int
    role: str
    participant_id: int | None = None
    lang: str = i18n.DEFAULT


CLIENTS: dict[str, Client] = {}
HANDLERS: dict[str, object] = {}  # event name -> handler, registered on each app in init_app


def room(workshop_id: int, audience: str, lang: str | None = None) -> str:
    """Name the room of one audience of one workshop (of one language, for phones and consoles)."""
    return f"w{workshop_id}:{audience}:{lang}" if lang else f"w{workshop_id}:{audience}"


def languages_in_use(workshop_id: int, audience: str) -> list[str]:
    """Return the languages of this audience's screens, so each is rendered once and only if needed.

    With a message queue the screens may sit on other processes, whose rooms this
    one cannot see: then every language is rendered (at most four renders).
    """
    if current_app.config.get("REDIS_URL"):
        return list(i18n.LANGUAGES)
    rooms = socketio.server.manager.rooms.get("/", {})
    return [lang for lang in i18n.LANGUAGES if rooms.get(room(workshop_id, audience, lang))]


def push(workshop: Workshop, audiences=ROLES, **extra) -> None:
    """Send every screen of the given audiences its current view of the workshop, in its language."""
    for audience in audiences:
        if audience == "projector":
            socketio.emit("view", {**live.payload(workshop, audience), **extra},
                          to=room(workshop.id, audience))
            continue
        for lang in languages_in_use(workshop.id, audience):
            socketio.emit("view", {**live.payload(workshop, audience, lang), **extra},
                          to=room(workshop.id, audience, lang))


class _Coalescer:
    """Collect workshops whose tallies changed; refresh them at most every interval."""

    def __init__(self, app):
        self.app = app
        self.dirty: set[int] = set()
        self.lock = threading.Lock()
        self.started = False

    def mark(self, workshop_id: int) -> None:
        with self.lock:
            self.dirty.add(workshop_id)
            if not self.started:
                self.started = True
                socketio.start_background_task(self.run)

    def run(self) -> None:
        while True:
            socketio.sleep(self.app.config["PUSH_INTERVAL"])
            with self.lock:
                ids, self.dirty = self.dirty, set()
            if ids:
                with self.app.app_context():
                    self.flush(ids)

    @staticmethod
    def flush(ids) -> None:
        for workshop_id in ids:
            try:
                workshop = db.session.get(Workshop, workshop_id)
                if workshop is not None:
                    push(workshop, ("projector", "console"), coalesced=True)
            except Exception:  # one broken workshop must not stop the others' updates
                log.exception("refreshing workshop %s failed", workshop_id)
                db.session.rollback()


def push_soon(workshop_id: int) -> None:
    """Refresh the projector and console of a workshop soon, coalescing bursts of votes."""
    if current_app.config["PUSH_INTERVAL"] <= 0:
        _Coalescer.flush([workshop_id])
    else:
        current_app.extensions["charrette.coalescer"].mark(workshop_id)


# --- connecting -------------------------------------------------------------------

def _connect(auth):
    """A screen connects with auth {code, role}; refuse anyone not entitled to it.

    Who may ask is checked before the code is looked up, so a refusal never tells a
    stranger whether a code exists; a signed-in facilitator's wrong codes are
    counted like wrong codes typed on the join page.
    """
    if not isinstance(auth, dict) or auth.get("role") not in ROLES or not isinstance(auth.get("code"), str):
        raise ConnectionRefusedError(_("Invalid connection."))
    role, code = auth["role"], flow.normalise_code(auth["code"])
    token = (session.get("joined") or {}).get(code)
    if role == "phone" and not token:
        raise ConnectionRefusedError(_("Join the workshop first."))
    if role != "phone" and (not current_user.is_authenticated or sign_in_expired()):
        raise ConnectionRefusedError(_("Sign in as this workshop's facilitator."))
    if not limits.allowed_now("code_guesses", limits.remote_address()):
        raise ConnectionRefusedError(str(limits.TOO_FAST))
    try:
        workshop = flow.get_workshop(code, facilitator=None if role == "phone" else current_user,
                                     open_only=(role == "phone"))
    except Refused as refusal:
        if refusal.status in (403, 404):
            limits.allow("code_guesses", limits.remote_address())
        raise ConnectionRefusedError(refusal.message) from None
    participant = None
    if role == "phone":
        participant = flow.participant_for(workshop, token)
        if participant is None:
            raise ConnectionRefusedError(_("Join the workshop first."))
    lang = workshop.language if role == "projector" else i18n.current()
    CLIENTS[request.sid] = Client(workshop.id, role, participant.id if participant else None, lang)
    # The projector has one room; phones and consoles one per language. The screen then asks
    # for its view with `sync`.
    join_room(room(workshop.id, role, None if role == "projector" else lang))


def _disconnect(*_args):
    CLIENTS.pop(request.sid, None)


def on(event: str, *roles: str, limit: str | None = None):
    """Register a handler that only `roles` may call; refusals become error replies.

    The handler gets (workshop, participant-or-None, payload) and returns a dict
    merged into the `ok` reply. `limit` names a limit of config.RATE_LIMITS that
    caps how often one participant may send the event.
    """
    def decorator(fn):
        @wraps(fn)
        def handler(payload=None):
            client = CLIENTS.get(request.sid)
            if client is None or client.role not in roles:
                return {"ok": False, "error": _("You are not allowed to do that.")}
            try:
                workshop = db.session.get(Workshop, client.workshop_id)
                if workshop is None:
                    raise Refused(_("This workshop no longer exists."))
                participant = (db.session.get(Participant, client.participant_id)
                               if client.participant_id else None)
                if client.role == "phone" and participant is None:
                    raise Refused(_("Join the workshop first."))
                if limit and participant is not None and not limits.allow(limit, str(participant.id)):
                    raise Refused(limits.TOO_FAST, 429)
                return {"ok": True, **(fn(workshop, participant, payload) or {})}
            except Refused as refusal:
                db.session.rollback()
                return {"ok": False, "error": refusal.message}
            except Exception:
                db.session.rollback()
                log.exception("%s failed", event)
                return {"ok": False, "error": _("Something went wrong; please try again.")}
        HANDLERS[event] = handler
        return fn
    return decorator


# --- handlers ---------------------------------------------------------------------

def _mine(workshop, participant) -> dict:
    stage = workshop.current_stage
    if participant is None or stage is None:
        return {}
    return {"stage_id": stage.id, **kind_of(stage).mine(stage, participant)}


@on("sync", *ROLES)
def sync(workshop, participant, _payload):
    """Any screen asks for the full current state (after a reconnect)."""
    client = CLIENTS[request.sid]
    return {"view": live.payload(workshop, client.role, client.lang), "mine": _mine(workshop, participant)}


@on("idea:add", "phone", limit="ideas")
def phone_adds_idea(workshop, participant, payload):
    """A phone submits an idea; projector and console refresh (coalesced)."""
    item = flow.add_item(workshop, participant, payload)
    push_soon(workshop.id)
    return {"item": {"id": item.id, "title": item.title}}


@on("comment:add", "phone", limit="ideas")
def phone_comments(workshop, participant, payload):
    """A phone comments on a concept (keep / change / concern); console refreshes (coalesced)."""
    comment = flow.add_comment(workshop, participant, payload)
    push_soon(workshop.id)
    return {"comment": {"id": comment.id}, "mine": _mine(workshop, participant)}


@on("vote", "phone", limit="votes")
def phone_votes(workshop, participant, payload):
    """A phone casts or moves dots; stored before the ack, tallies refresh coalesced."""
    mine = flow.cast_vote(workshop, participant, payload)
    push_soon(workshop.id)
    return {"mine": {"stage_id": workshop.current_stage_id, **mine}, "at": time.time()}


@on("item:add", "console")
def console_adds_idea(workshop, _participant, payload):
    """The facilitator adds an idea; every screen updates."""
    item = flow.add_item(workshop, None, payload)
    push(workshop)
    return {"item": {"id": item.id, "title": item.title}}


@on("stage:go", "console")
def console_goes(workshop, _participant, payload):
    """The facilitator moves to a stage and phase; every screen follows."""
    form = forms.parse(forms.PhaseForm, payload)
    flow.go(workshop, form.stage_id.data, form.phase.data)
    push(workshop)


@on("stage:settings", "console")
def console_sets(workshop, _participant, payload):
    """The facilitator changes a stage setting (e.g. dots per participant)."""
    flow.update_settings(workshop, payload)
    push(workshop)


@on("item:hide", "console")
def console_hides(workshop, _participant, payload):
    """The facilitator hides an idea from the room, or shows it again."""
    form = forms.parse(forms.HideForm, payload)
    flow.hide_item(workshop, form.item_id.data, form.hidden.data)
    push(workshop)


@on("item:merge", "console")
def console_merges(workshop, _participant, payload):
    """The facilitator merges a duplicate; phones move their dots along (`remap`)."""
    form = forms.parse(forms.MergeForm, payload)
    flow.merge_items(workshop, form.source_id.data, form.target_id.data)
    push(workshop, remap={str(form.source_id.data): form.target_id.data})


@on("timer:start", "console")
def console_starts_timer(workshop, _participant, payload):
    """The facilitator starts the countdown on every screen."""
    flow.start_timer(workshop, forms.parse(forms.TimerForm, payload).seconds.data)
    push(workshop)


@on("timer:stop", "console")
def console_stops_timer(workshop, _participant, _payload):
    """The facilitator stops the countdown."""
    flow.stop_timer(workshop)
    push(workshop)


@on("results:reveal", "console")
def console_reveals(workshop, _participant, payload):
    """The facilitator reveals (or hides again) the results to the room."""
    form = forms.parse(forms.RevealForm, payload)
    flow.reveal(workshop, form.stage_id.data, form.revealed.data)
    push(workshop)


@on("stage:decide", "console")
def console_decides(workshop, _participant, payload):
    """The facilitator records the decision, its rationale and the minority view."""
    flow.decide(workshop, forms.parse(forms.DecisionForm, payload))
    push(workshop)


@on("stage:notes", "console")
def console_notes(workshop, _participant, payload):
    """The facilitator keeps private notes on a stage (consoles only)."""
    form = forms.parse(forms.NotesForm, payload)
    flow.save_notes(workshop, form.stage_id.data, form.notes.data or "")


@on("stage:focus", "console")
def console_focuses(workshop, _participant, payload):
    """The facilitator shows one item to the room (phones follow), or lets phones browse (0)."""
    form = forms.parse(forms.FocusForm, payload)
    flow.focus(workshop, form.stage_id.data, form.item_id.data or None)
    push(workshop)


@on("agenda:add", "console")
def console_adds_stage(workshop, _participant, payload):
    """The facilitator adds a stage of a kind at the end of the agenda."""
    flow.add_stage(workshop, forms.parse(forms.NewStageForm, payload).kind.data)
    push(workshop)


@on("agenda:remove", "console")
def console_removes_stage(workshop, _participant, payload):
    """The facilitator removes a stage nobody has contributed to."""
    flow.remove_stage(workshop, forms.parse(forms.StageIdForm, payload).stage_id.data)
    push(workshop)


@on("agenda:move", "console")
def console_moves_stage(workshop, _participant, payload):
    """The facilitator moves a stage earlier or later in the agenda."""
    form = forms.parse(forms.MoveStageForm, payload)
    flow.move_stage(workshop, form.stage_id.data, form.offset.data)
    push(workshop)


@on("stage:edit", "console")
def console_edits_stage(workshop, _participant, payload):
    """The facilitator renames a stage or rewords its prompt."""
    form = forms.parse(forms.EditStageForm, payload)
    flow.edit_stage(workshop, form.stage_id.data, form.title.data, form.prompt.data)
    push(workshop)


def init_app(app) -> None:
    """Register every handler on the app's Socket.IO server."""
    app.extensions["charrette.coalescer"] = _Coalescer(app)
    socketio.on_event("connect", _connect)
    socketio.on_event("disconnect", _disconnect)
    for event, handler in HANDLERS.items():
        socketio.on_event(event, handler)


def forget(workshop_id: int) -> None:
    """Drop this process's sockets of a deleted workshop, so none acts on a reused id."""
    for sid, client in list(CLIENTS.items()):
        if client.workshop_id == workshop_id:
            CLIENTS.pop(sid, None)
            try:
                socketio.server.disconnect(sid, namespace="/")
            except (KeyError, ValueError):  # already gone
                pass
    for audience in ROLES:
        socketio.close_room(room(workshop_id, audience))
