"""Agreed strategy: a summary pre-filled from the decisions, edited live, then a fist-of-five.

The summary gathers what earlier stages decided (trend, audiences with their
profile, concept and key message, drafts with their verdicts and requested
changes); the facilitator completes it on the projector (call to action,
channels, allies, indicators, next steps with owners and dates). Phones then
show their support from 0 (block) to 5 (full support); 0-2 are flagged, with
their comments, so concerns are heard before the strategy is marked agreed.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ... import voting
from ...extensions import db
from ...models import Item, Participant, Vote
from .. import earlier
from ..base import StageKind
from ..registry import kind_of, register
from .forms import FIST, FistForm, StrategyForm

WRITTEN = ("key_message", "call_to_action", "channels", "allies", "indicators")


class StrategyStage(StageKind):
    key = "strategy"
    label = _l("Agreed strategy")
    prompt = _l("Do you support this strategy?")
    phases = ("pending", "draft", "vote", "results", "decided")
    defaults = {"show_groups": False}
    template = "stages/strategy/screens.html"
    VoteForm = FistForm
    SettingsForm = StrategyForm
    noun = _l("strategy")
    fist = FIST
    holds_strategy = True
    vote_meaning = "fist of five"
    strategy_labels = {"key_message": _l("Key message"), "call_to_action": _l("Call to action"),
                       "channels": _l("Channels"), "allies": _l("Allies and partners"),
                       "indicators": _l("Indicators of success"), "steps": _l("Next steps")}

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
        """The facilitator's fields, with next steps as a list of {what, who, when}.

        In a campaign, a field left empty reads as the campaign's earlier workshops agreed it
        (the last agreed strategy that has it): a concept workshop starts from the strategy
        the planning workshop agreed, and updates it.
        """
        own = _written(stage.settings or {})
        _campaign, before = earlier.campaign_workshops(stage.workshop)
        agreed = [s for w in before for s in w.stages if kind_of(s).holds_strategy and s.decision is not None]
        for other in reversed(agreed):
            theirs = _written(other.settings or {})
            own.update({key: value for key, value in theirs.items() if value and not own[key]})
        return own

    @staticmethod
    def merged(decided: list) -> dict:
        """Put decided stages' parts together into the summary the screens show (stages/earlier.py).

        Each kind says what its decision adds (`strategy_part`): lists add up (two trend
        stages, two trends), a single value is the first one decided.
        """
        empty = {"trend": [], "primary": None, "secondary": [], "concepts": [], "drafts": [],
                 "key_message": ""}
        out = {key: value for key, value in earlier.merge(decided, empty).items() if key in empty}
        # A part the strategy does not know (a pre-test's verdicts) is drawn by its kind's own
        # `strategy_part` macro.
        out["extra"] = [{"template": d.kind.template, "part": extra} for d in earlier.latest(decided)
                        if (extra := {k: v for k, v in d.part.items() if k not in empty})]
        return out

    def summary(self, stage) -> dict:
        """What the decided stages before this one decided; in a campaign, the earlier workshops' first."""
        return self.merged(earlier.earlier(stage))


def _written(settings: dict) -> dict:
    """Return the strategy fields written in one stage's settings (next steps as a list)."""
    steps = [{"what": w, "who": o, "when": d} for w, o, d in
             zip(settings.get("step_what", []), settings.get("step_who", []), settings.get("step_when", []),
                 strict=False) if w or o or d]
    return {**{k: settings.get(k, "") for k in WRITTEN}, "steps": steps}


register(StrategyStage())
