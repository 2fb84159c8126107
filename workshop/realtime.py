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

Events the server sends: `view`, to a room. On every facilitator action, the
whole view (live.payload: HTML plus numbers). Coalesced, to projector and
console: for a join or a vote only the numbers (live.numbers: `numbers: true`,
progress, participants, no HTML; the console's live tally rides along as
`parts.tally` at most once a second), for a new idea or comment the whole view
(at most once a second). Phones never get a broadcast per vote.
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
from sqlalchemy.orm import joinedload, make_transient_to_detached

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

    With a message queue the screens may sit on other processes, whose rooms this one
    cannot see: the languages screens connected with are kept in Redis (see
    `_remember_language`), never forgotten while the workshop runs (a language too many
    costs one render, one too few a blank screen). If Redis cannot say, all of them.
    """
    coalescer = current_app.extensions.get("charrette.coalescer")
    if coalescer is not None and coalescer.redis is not None:
        try:
            found = coalescer.redis.smembers(f"{coalescer.prefix}:langs:{workshop_id}:{audience}")
        except Exception:
            log.warning("reading the languages in use failed", exc_info=True)
            return list(i18n.LANGUAGES)
        found = {lang.decode() for lang in found}
        return [lang for lang in i18n.LANGUAGES if lang in found]
    rooms = socketio.server.manager.rooms.get("/", {})
    return [lang for lang in i18n.LANGUAGES if rooms.get(room(workshop_id, audience, lang))]


def _remember_language(workshop_id: int, audience: str, lang: str) -> None:
    """With several processes: note in Redis that a screen of `audience` speaks `lang`."""
    coalescer = current_app.extensions.get("charrette.coalescer")
    if coalescer is None or coalescer.redis is None:
        return
    key = f"{coalescer.prefix}:langs:{workshop_id}:{audience}"
    try:
        coalescer.redis.pipeline().sadd(key, lang).expire(key, 7 * 24 * 3600).execute()
    except Exception:  # then other processes render every language for it, as they did before
        log.warning("noting a language in use failed", exc_info=True)


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


def push_numbers(workshop: Workshop, tally: bool = True) -> None:
    """Send projector and console the live numbers only (no HTML but the console's tally)."""
    figures = live.numbers(workshop)
    socketio.emit("view", figures, to=room(workshop.id, "projector"))
    for lang in languages_in_use(workshop.id, "console"):  # consoles have one room per language
        parts = live.tally(workshop, lang) if tally else {}
        socketio.emit("view", {**figures, **parts}, to=room(workshop.id, "console", lang))


# A whole view (the console lists every idea: megabytes with a thousand of them) is
# re-rendered for a new idea at most this often; numbers go out every PUSH_INTERVAL.
FULL_INTERVAL = 1.0
# ... and, when rendering the whole views takes long (thousands of ideas), no sooner than this
# many times what the last one took: whole views never take more than a quarter of the process.
FULL_SPACING = 4.0


class _Coalescer:
    """Collect workshops whose views changed; refresh them at most every interval.

    What a workshop needs is a set: "numbers" (a join or a vote), "tally" (a vote:
    the console's live tally, re-rendered at most every FULL_INTERVAL) and "full"
    (a new idea or comment: whole views, at most every FULL_INTERVAL, and no sooner than
    FULL_SPACING times what the last whole views took to render). With several
    processes (Redis), a short-lived Redis key per workshop and kind of push lets one
    process push per interval for all of them; a process that does not get the key
    keeps the workshop dirty and tries again next interval, so no change is missed.
    """

    def __init__(self, app):
        self.app = app
        self.dirty: dict[int, set[str]] = {}
        self.lock = threading.Lock()
        self.started = False
        self.due: dict[tuple[str, int], float] = {}  # without Redis: (what, workshop id) -> next turn
        self.cost: dict[int, float] = {}  # workshop id -> seconds its last whole-view push took
        self.redis = None
        if app.config["REDIS_URL"]:
            import redis

            self.redis = redis.Redis.from_url(app.config["REDIS_URL"])
            self.prefix = f"{app.config['REDIS_CHANNEL']}:push"

    def mark(self, workshop_id: int, needs: set[str]) -> None:
        with self.lock:
            self.dirty.setdefault(workshop_id, set()).update(needs)
            if not self.started:
                self.started = True
                socketio.start_background_task(self.run)

    def run(self) -> None:
        while True:
            socketio.sleep(self.app.config["PUSH_INTERVAL"])
            with self.lock:
                batch, self.dirty = self.dirty, {}
            if batch:
                with self.app.app_context():
                    for workshop_id, needs in self.flush(batch).items():
                        self.mark(workshop_id, needs)

    def claim(self, what: str, workshop_id: int, seconds: float) -> bool:
        """Take this interval's turn to push `what` for a workshop (in one process of all)."""
        if self.redis is None:
            key, now = (what, workshop_id), time.monotonic()
            if now < self.due.get(key, 0.0):
                return False
            self.due[key] = now + seconds
            return True
        try:
            return bool(self.redis.set(f"{self.prefix}:{what}:{workshop_id}", 1, nx=True,
                                       px=max(int(seconds * 1000), 1)))
        except Exception:  # Redis down: pushing twice is better than not at all
            log.warning("push claim failed", exc_info=True)
            return True

    def hold(self, what: str, workshop_id: int, seconds: float) -> None:
        """Make the turn just taken last `seconds` from now (when it must be longer than claimed)."""
        if self.redis is None:
            self.due[(what, workshop_id)] = time.monotonic() + seconds
            return
        try:
            self.redis.pexpire(f"{self.prefix}:{what}:{workshop_id}", max(int(seconds * 1000), 1))
        except Exception:  # Redis down: the turn ends a little early, nothing is lost
            log.warning("push hold failed", exc_info=True)

    def flush(self, batch: dict[int, set[str]]) -> dict[int, set[str]]:
        """Push what each workshop needs and may have now; return what must wait for a later turn."""
        later: dict[int, set[str]] = {}
        interval = self.app.config["PUSH_INTERVAL"]
        slow = max(FULL_INTERVAL, interval)
        for workshop_id, needs in batch.items():
            try:
                workshop = db.session.get(Workshop, workshop_id)
                if workshop is None:
                    continue
                if "full" in needs:
                    spacing = max(slow, FULL_SPACING * self.cost.get(workshop_id, 0.0))
                    if self.claim("full", workshop_id, spacing):
                        started = time.perf_counter()
                        push(workshop, ("projector", "console"), coalesced=True)
                        self.cost[workshop_id] = cost = time.perf_counter() - started
                        if FULL_SPACING * cost > spacing:  # it took longer than the last one
                            self.hold("full", workshop_id, FULL_SPACING * cost - cost)
                        continue  # whole views carry the numbers and the tally too
                    later[workshop_id] = {"full"}
                if not needs & {"numbers", "tally"}:
                    continue
                if not self.claim("numbers", workshop_id, interval * 0.9):
                    later.setdefault(workshop_id, set()).update(needs - {"full"})
                    continue
                tally = "tally" in needs and self.claim("tally", workshop_id, slow)
                if tally or "numbers" in needs:
                    push_numbers(workshop, tally=tally)
                if "tally" in needs and not tally:
                    later.setdefault(workshop_id, set()).add("tally")
            except Exception:  # one broken workshop must not stop the others' updates
                log.exception("refreshing workshop %s failed", workshop_id)
                db.session.rollback()
        return later


def push_soon(workshop_id: int, *needs: str) -> None:
    """Refresh projector and console soon, coalescing bursts; `needs`: "numbers", "tally", "full".

    A join changes numbers; a vote numbers and the console's tally; a new idea or
    comment what the views list ("full").
    """
    needs = set(needs or ("numbers",))
    if current_app.config["PUSH_INTERVAL"] <= 0:
        workshop = db.session.get(Workshop, workshop_id)
        if workshop is not None:
            if "full" in needs:
                push(workshop, ("projector", "console"), coalesced=True)
            else:
                push_numbers(workshop, tally="tally" in needs)
    else:
        current_app.extensions["charrette.coalescer"].mark(workshop_id, needs)


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
    if role != "projector":
        _remember_language(workshop.id, role, lang)


def _disconnect(*_args):
    CLIENTS.pop(request.sid, None)


def on(event: str, *roles: str, limit: str | None = None, light: bool = False):
    """Register a handler that only `roles` may call; refusals become error replies.

    The handler gets (workshop, participant-or-None, payload) and returns a dict
    merged into the `ok` reply. `limit` names a limit of config.RATE_LIMITS that
    caps how often one participant may send the event. A `light` handler (a vote: the
    hot path) gets flow.LiveWorkshop and flow.LiveParticipant, plain values from one query.
    """
    def decorator(fn):
        @wraps(fn)
        def handler(payload=None):
            client = CLIENTS.get(request.sid)
            if client is None or client.role not in roles:
                return {"ok": False, "error": _("You are not allowed to do that.")}
            try:
                # One query for the workshop and its current stage, which every handler reads.
                workshop = (flow.live_workshop(client.workshop_id) if light else
                            db.session.get(Workshop, client.workshop_id,
                                           options=[joinedload(Workshop.current_stage)]))
                if workshop is None:
                    raise Refused(_("This workshop no longer exists."))
                participant = None
                if client.participant_id and light:
                    participant = flow.LiveParticipant(client.participant_id)
                elif client.participant_id:
                    # Checked when the socket connected, and only deleted with its workshop:
                    # attach it without a query; what a handler reads of it loads on access.
                    participant = Participant(id=client.participant_id)
                    make_transient_to_detached(participant)  # its other columns load when read
                    participant = db.session.merge(participant, load=False)
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
    push_soon(workshop.id, "full")
    return {"item": {"id": item.id, "title": item.title}}


@on("comment:add", "phone", limit="ideas")
def phone_comments(workshop, participant, payload):
    """A phone comments on a concept (keep / change / concern); console refreshes (coalesced)."""
    comment = flow.add_comment(workshop, participant, payload)
    push_soon(workshop.id, "full")
    return {"comment": {"id": comment.id}, "mine": _mine(workshop, participant)}


@on("vote", "phone", limit="votes", light=True)
def phone_votes(workshop, participant, payload):
    """A phone casts or moves dots; stored before the ack, tallies refresh coalesced."""
    mine = flow.cast_vote(workshop, participant, payload)
    push_soon(workshop.id, "numbers", "tally")
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
