"""What a screen may send, in one table: who may send it, how it is checked, the rule it runs,
what the room sees afterwards. The socket handlers (sockets.py) and the phone's plain form
posts (participate.py) both go through `run`.

Each event replies `{"ok": true, ...}` or `{"ok": false, "error": "<message to show>"}`:

  phone    idea:add {cid, title, detail, ...the kind's item fields}  -> {"item": {id, title}}
  phone    vote {cid, item_id, dots | value [, criterion, note]}      -> {"mine": {...}, "at": <epoch s>}
  phone    comment:add {cid, item_id, tag, text}                      -> {"comment": {id}, "mine": {...}}
  console  stage:go {stage_id, phase}, stage:settings {stage_id, ...the kind's settings},
           item:add {stage_id?, title, ...the kind's item fields}, item:hide {item_id, hidden},
           item:merge {source_id, target_id}, item:unmerge {item_id},
           item:retitle {item_id, title}, comment:hide {comment_id, hidden}, reason:hide {vote_id, hidden}
           (moderation.py: an approval is a "show"), timer:start {seconds}, timer:add {seconds}, timer:stop,
           results:reveal {stage_id, revealed}, stage:decide {stage_id, item_ids, rationale,
           minority_view, primary_id, verdicts}, stage:notes {stage_id, notes},
           stage:focus {stage_id, item_id}, stage:edit {stage_id, title, prompt},
           agenda:add {kind}, agenda:remove {stage_id}, agenda:move {stage_id, offset},
           answer:code {stage_id, ...the kind's CodingForm} (a participant's open answer, coded)
  any      sync {} -> {"view": ..., "mine": ...}   (sockets.py: it answers with the screen's own view)

A vote, start to end: sockets.handle -> run("vote") -> checks (client id, the kind's VoteForm)
-> flow.votes.cast_vote -> the kind's `vote` stores it -> commit -> broadcast.push(.., "vote").
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from . import broadcast, checks, forms, limits, privacy
from .errors import Refused
from .flow import access, agenda, items, moderation, phases, votes
from .stages import kind_of

PHONE, CONSOLE = ("phone",), ("console",)
NO_IDEAS = _l("This stage does not take ideas.")


@dataclass(frozen=True)
class Event:
    """One event: who may send it, `apply` (check the payload, run the rule), what changes for the room."""

    roles: tuple[str, ...]
    apply: Callable[[Any, Any, dict], Any]  # (workshop, participant or None, payload) -> result
    change: str | None = "views"            # what broadcast.push tells the screens afterwards
    reply: Callable[[Any, Any, Any], dict] | None = None  # (workshop, participant, result) -> ack fields
    limit: str | None = None                # a rate limit of config.RATE_LIMITS, per participant
    light: bool = False                     # the vote path: flow.votes.LiveWorkshop, no ORM objects


def move(form_class, rule) -> Callable:
    """A facilitator move: the payload checked by `form_class`, whose fields are the rule's arguments."""
    def apply(workshop, _participant, payload):
        if payload is None and form_class is forms.EmptyForm:  # a button that sends nothing
            payload = {}
        return rule(workshop, **checks.parse(form_class, payload).data)
    return apply


def contribution(form: str, rule, closed, stored=None) -> Callable:
    """An idea, vote or comment: checked by the stage kind's `form` (e.g. "VoteForm").

    A phone's carries a client id: a resend of something `stored` is answered with it, not
    added twice. The facilitator's (no participant) may name another stage (`stage_id`).
    `closed` is what to say when the stage takes no such thing.
    """
    def apply(workshop, participant, payload):
        client_id, fields = checks.split_client_id(payload, required=participant is not None)
        if participant is not None and workshop.safeguarding:  # the one door of what phones write
            fields = privacy.mask_fields(fields, {k for k, v in fields.items() if isinstance(v, str)})
        if stored is not None and (found := stored(participant, client_id)) is not None:
            return found
        stage = workshop.current_stage
        if participant is None and fields.get("stage_id", "") != "":
            stage_id = checks.parse(forms.StageIdForm, {"stage_id": fields.pop("stage_id")}).stage_id.data
            stage = access.get_stage(workshop, stage_id)
        elif participant is None:
            fields.pop("stage_id", None)
        form_class = kind_of(stage).form_for(stage, form) if stage is not None else None
        if form_class is None:
            raise Refused(closed)
        return rule(workshop, participant, stage, checks.parse(form_class, fields), client_id)
    return apply


def _stage_form(workshop, payload, form: str, missing):
    """Return the payload's stage (`stage_id`) and its kind's `form` class, or refuse with `missing`."""
    if not isinstance(payload, dict):
        raise Refused(_l("Invalid request."))
    stage_id = checks.parse(forms.StageIdForm, {"stage_id": payload.get("stage_id", "")}).stage_id.data
    stage = access.get_stage(workshop, stage_id)
    form_class = getattr(kind_of(stage), form)
    if form_class is None:
        raise Refused(missing)
    return stage, form_class


def _settings(workshop, _participant, payload):
    """Check a stage's new settings with its kind's settings form, then store them."""
    stage, form_class = _stage_form(workshop, payload, "SettingsForm", _l("This stage has no settings."))
    fields = {k: v for k, v in payload.items() if k != "stage_id"}
    return phases.update_settings(workshop, stage, checks.parse(form_class, fields))


def _code(workshop, _participant, payload):
    """Code a participant's open answer with the stage kind's CodingForm (understood / partly / ...)."""
    stage, form_class = _stage_form(workshop, payload, "CodingForm", _l("This stage has no answers to code."))
    return items.code_answer(workshop, stage, checks.parse(form_class, payload))


def _mine(workshop, participant, _result=None) -> dict:
    """Return the phone's own votes in the current stage, as its acknowledgement carries them."""
    stage = workshop.current_stage
    if participant is None or stage is None:
        return {}
    return {"mine": {"stage_id": stage.id, **kind_of(stage).mine(stage, participant)}}


def _item(_workshop, _participant, item) -> dict:
    return {"item": {"id": item.id, "title": item.title}}


EVENTS: dict[str, Event] = {
    # Phones: what the room gives. Stored before the acknowledgement; the screens refresh coalesced.
    "idea:add": Event(PHONE, contribution("ItemForm", items.add_item, NO_IDEAS, stored=items.stored_item),
                      change="idea", reply=_item, limit="ideas"),
    "comment:add": Event(PHONE, contribution("CommentForm", items.add_comment, _l("Comments are closed."),
                                             stored=items.stored_comment),
                         change="idea", limit="ideas",
                         reply=lambda w, p, comment: {"comment": {"id": comment.id}, **_mine(w, p)}),
    "vote": Event(PHONE, contribution("VoteForm", votes.cast_vote, _l("Voting is closed.")),
                  change="vote", limit="votes", light=True,
                  reply=lambda w, _p, mine: {"mine": {"stage_id": w.current_stage_id, **mine},
                                             "at": time.time()}),
    # The console: the facilitator's moves. Every screen gets its new view at once.
    "item:add": Event(CONSOLE, contribution("ItemForm", items.add_item, NO_IDEAS), reply=_item),
    "stage:go": Event(CONSOLE, move(forms.PhaseForm, phases.go)),
    "stage:settings": Event(CONSOLE, _settings),
    "item:hide": Event(CONSOLE, move(forms.HideForm, items.hide_item), change="votes moved"),
    "item:merge": Event(CONSOLE, move(forms.MergeForm, items.merge_items), change="votes moved"),
    "item:unmerge": Event(CONSOLE, move(forms.ItemIdForm, items.unmerge_item), change="votes moved"),
    "item:retitle": Event(CONSOLE, move(forms.RetitleForm, moderation.retitle)),
    "comment:hide": Event(CONSOLE, move(forms.CommentHideForm, moderation.hide_comment)),
    "reason:hide": Event(CONSOLE, move(forms.ReasonHideForm, moderation.hide_reason)),
    "timer:start": Event(CONSOLE, move(forms.TimerForm, phases.start_timer)),
    "timer:add": Event(CONSOLE, move(forms.TimerAddForm, phases.add_to_timer)),
    "timer:stop": Event(CONSOLE, move(forms.EmptyForm, phases.stop_timer)),
    "results:reveal": Event(CONSOLE, move(forms.RevealForm, phases.reveal)),
    "stage:decide": Event(CONSOLE, lambda w, _p, payload: phases.decide(w, checks.parse(forms.DecisionForm,
                                                                                         payload))),
    "stage:notes": Event(CONSOLE, move(forms.NotesForm, phases.save_notes), change=None),  # consoles only
    "stage:focus": Event(CONSOLE, move(forms.FocusForm, phases.focus)),
    "stage:edit": Event(CONSOLE, move(forms.EditStageForm, agenda.edit_stage)),
    "agenda:add": Event(CONSOLE, move(forms.NewStageForm, agenda.add_stage)),
    "agenda:remove": Event(CONSOLE, move(forms.StageIdForm, agenda.remove_stage)),
    "agenda:move": Event(CONSOLE, move(forms.MoveStageForm, agenda.move_stage)),
    "answer:code": Event(CONSOLE, _code),
}


def run(name: str, workshop, participant, payload) -> dict:
    """Run event `name` for a screen already allowed to send it: limit, check, rule, push; return the ack.

    Raises Refused (nothing changed) for a payload or an action the rules refuse.
    """
    event = EVENTS[name]
    if event.limit and participant is not None and not limits.allow(event.limit, str(participant.id)):
        raise Refused(limits.TOO_FAST, 429)
    result = event.apply(workshop, participant, payload)
    if event.change is not None:
        broadcast.push(workshop, event.change)
    return {"ok": True, **(event.reply(workshop, participant, result) if event.reply else {})}
