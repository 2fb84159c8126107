"""Agreed strategy: a summary pre-filled from the decisions, edited live, then a fist-of-five.

The summary gathers what earlier stages decided (trend, audiences with their
profile, concept and key message, drafts with their verdicts and requested
changes); the facilitator completes it on the projector (call to action,
channels, allies, indicators, next steps with owners and dates). Phones then
show their support from 0 (block) to 5 (full support); 0-2 are flagged, with
their comments, so concerns are heard before the strategy is marked agreed.
"""
from __future__ import annotations

from collections import Counter

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import Form, IntegerField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from .. import voting
from ..extensions import db
from ..forms import strip
from ..models import Item, Participant, Stage, Vote
from .base import StageKind
from .drafts import VERDICT_OF

MAX_STEPS = 12
FIST = (
    (0, _l("Block: I cannot support this")),
    (1, _l("Serious concerns")),
    (2, _l("Some concerns")),
    (3, _l("OK, I can live with it")),
    (4, _l("Good")),
    (5, _l("Full support")),
)


def _area(label, size=1000):
    return TextAreaField(label, filters=[strip], validators=[Optional(), Length(max=size)])


def _lines(size):
    def check(_form, field):
        if len(field.data) > MAX_STEPS or any(len(v) > size for v in field.data):
            raise ValidationError(_l("Up to %(n)d next steps, each short.", n=MAX_STEPS))
    return [Optional(), check]


class StrategyForm(Form):
    """What the facilitator writes into the strategy (the rest comes from decisions)."""

    key_message = StringField(_l("Key message"), filters=[strip], validators=[Optional(), Length(max=200)])
    call_to_action = _area(_l("Call to action"), 300)
    channels = _area(_l("Channels"))
    allies = _area(_l("Allies and partners"))
    indicators = _area(_l("Indicators of success"))
    step_what = SelectMultipleField(_l("Next step"), validate_choice=False, validators=_lines(200))
    step_who = SelectMultipleField(_l("Owner"), validate_choice=False, validators=_lines(120))
    step_when = SelectMultipleField(_l("When"), validate_choice=False, validators=_lines(40))


class FistForm(Form):
    item_id = IntegerField(_l("Strategy"), validators=[InputRequired(), NumberRange(min=1)])
    value = IntegerField(_l("Your support"), validators=[InputRequired(), NumberRange(min=0, max=5)])
    note = TextAreaField(_l("Comment (optional)"), filters=[strip], validators=[Optional(), Length(max=1000)])


class StrategyStage(StageKind):
    key = "strategy"
    label = _l("Agreed strategy")
    phases = ("pending", "draft", "vote", "results", "decided")
    defaults = {"show_groups": False}
    template = "stages/strategy.html"
    VoteForm = FistForm
    SettingsForm = StrategyForm
    noun = _l("strategy")
    fist = FIST

    def setup(self, stage):
        stage.items.append(Item(title=str(_l("The strategy")), detail="", data={"role": "strategy"}))

    def decision_choices(self, stage):
        return [(item.id, str(_l("The strategy is agreed"))) for item in stage.items if item.active][:1]

    def vote(self, stage, participant, form, client_id):
        self.open_item(stage, form.item_id.data)
        self.store(stage, participant, form.item_id.data, "", form.value.data, client_id,
                   note=form.note.data or "")
        return self.mine(stage, participant)

    def mine(self, stage, participant):
        votes = self.my_votes(stage, participant)
        return {"choices": {f"{v.item_id}:": v.value for v in votes},
                "notes": {f"{v.item_id}:": v.note for v in votes if v.note}}

    def consensus(self, stage) -> voting.Consensus:
        return voting.fist_of_five(db.session.execute(
            select(Participant.group, Vote.value).join(Participant, Vote.participant_id == Participant.id)
            .where(Vote.stage_id == stage.id)).all())

    def concerns(self, stage) -> list:
        """The 0-2 votes with their comments, lowest first: heard before agreeing."""
        return db.session.execute(
            select(Vote.value, Vote.note, Participant.group, Participant.name)
            .join(Participant, Vote.participant_id == Participant.id)
            .where(Vote.stage_id == stage.id, Vote.value <= 2).order_by(Vote.value, Vote.id)).all()

    def notes(self, stage) -> list:
        """Every fist-of-five comment, lowest support first (the report prints them all)."""
        return db.session.execute(
            select(Vote.value, Vote.note, Participant.group, Participant.name)
            .join(Participant, Vote.participant_id == Participant.id)
            .where(Vote.stage_id == stage.id, Vote.note != "").order_by(Vote.value, Vote.id)).all()

    def results(self, stage):
        return [self.consensus(stage)]

    def progress(self, stage):
        return {"voters": self.consensus(stage).count}

    # --- the summary ---------------------------------------------------------------

    @staticmethod
    def written(stage) -> dict:
        """The facilitator's fields, with next steps as a list of {what, who, when}."""
        s = stage.settings or {}
        steps = [{"what": w, "who": o, "when": d} for w, o, d in
                 zip(s.get("step_what", []), s.get("step_who", []), s.get("step_when", []), strict=False)
                 if w or o or d]
        return {**{k: s.get(k, "") for k in ("key_message", "call_to_action", "channels", "allies",
                                             "indicators")}, "steps": steps}

    @staticmethod
    def summary(stage) -> dict:
        """What the earlier stages of the workshop decided, for the strategy."""
        out = {"trend": [], "primary": None, "secondary": [], "concepts": [], "drafts": []}
        stages = db.session.scalars(select(Stage).where(
            Stage.workshop_id == stage.workshop_id, Stage.position < stage.position,
            Stage.decision.is_not(None)).order_by(Stage.position)).all()
        for earlier in stages:
            decision = earlier.decision or {}
            items = {item.id: item for item in earlier.items}
            chosen = [items[i] for i in decision.get("item_ids", []) if i in items]
            if earlier.kind == "trend":
                out["trend"] += chosen
            elif earlier.kind == "audience":
                primary = decision.get("primary_id")
                out["primary"] = out["primary"] or items.get(primary)
                out["secondary"] += [item for item in chosen if item.id != primary]
            elif earlier.kind == "concepts":
                out["concepts"] += chosen
            elif earlier.kind == "drafts":
                changes = {}
                for item_id, value, note in db.session.execute(
                        select(Vote.item_id, Vote.value, Vote.note).where(
                            Vote.stage_id == earlier.id, Vote.note != "").order_by(Vote.id)):
                    if VERDICT_OF.get(value) == "changes":
                        changes.setdefault(item_id, []).append(note)
                for key, verdict in (decision.get("verdicts") or {}).items():
                    item = items.get(int(key))
                    if item is not None and verdict != "rejected":
                        same = Counter(changes.get(item.id, []))  # the same request from several people
                        out["drafts"].append({"item": item, "verdict": verdict, "changes": [
                            note if n == 1 else f"{note} (×{n})" for note, n in same.items()]})
        return out
