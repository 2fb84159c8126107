"""Choose the audience: segments with a profile are proposed, ranked (Borda) and decided.

A participant ranks their top N (default 3): 1st gets N points, 2nd N-1, ...
Giving a rank to another segment takes it from the one that had it, so a
ballot never holds one rank twice. The decision names the primary audience
and, optionally, secondary ones.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from ... import voting
from ...errors import Refused
from ...extensions import db
from ...models import Participant, Vote
from ..base import ID_LIST, StageKind
from ..registry import register
from .forms import PROFILE, RankForm, RankSettingsForm, SegmentForm


class AudienceStage(StageKind):
    key = "audience"
    label = _l("Choose the audience")
    prompt = _l("Who must change their behaviour for this trend to change?")
    defaults = {"top": 3, "show_groups": False}
    template = "stages/audience/screens.html"
    shuffles = True  # a ballot: each phone lists the items in its own order
    ItemForm = SegmentForm
    VoteForm = RankForm
    SettingsForm = RankSettingsForm
    noun = _l("audience")
    profile = PROFILE
    mergeable = True  # the same segment proposed twice
    crowd_items = True  # every phone proposes: the console lists a bounded part (browse.py)
    vote_meaning = "rank"
    strategy_labels = {"primary": _l("Primary audience"), "secondary": _l("Secondary audiences")}
    decision_schema = {"type": "object", "required": ["item_ids"], "additionalProperties": False,
                       "properties": {"item_ids": ID_LIST, "primary_id": ID_LIST["items"]}}

    def item_fields(self, form):
        return {"title": form.title.data, "detail": "",
                "data": {name: getattr(form, name).data or "" for name, _label, _size in PROFILE}}

    def vote(self, stage, participant, form, client_id):
        """Give `value` (1 = first choice; 0 = none) to one segment."""
        item_id, place = form.item_id.data, form.value.data
        top = self.setting(stage, "top")
        if place > top:
            raise Refused(_l("Rank at most your top %(n)d.", n=top))
        self.open_item(stage, item_id)
        mine = {v.item_id: v.value for v in self.my_votes(stage, participant)}
        if place == 0:
            db.session.execute(delete(Vote).where(Vote.participant_id == participant.id,
                                                  Vote.item_id == item_id, Vote.criterion == ""))
        elif self.store(stage, participant, item_id, "", place, client_id):
            # The rank moves here from whichever segment held it.
            db.session.execute(delete(Vote).where(
                Vote.participant_id == participant.id, Vote.stage_id == stage.id,
                Vote.value == place, Vote.item_id != item_id, Vote.criterion == ""))
        else:
            return self._summary(stage, mine)  # a replay
        mine = {i: v for i, v in mine.items() if v != place and i != item_id}
        if place:
            mine[item_id] = place
        return self._summary(stage, mine)

    def combine(self, kept, moved):
        return min(kept, moved)  # someone who ranked both keeps the better rank

    def uncombine(self, stage, record, now):
        """Both ranks come back if the ballot is as the merge left it and the freed rank is still free."""
        if now is None or now != record["after"]:
            return now, None
        if record["before"] is None:
            return None, record["moved"]
        freed = max(record["before"], record["moved"])
        taken = db.session.scalar(select(Vote.id).where(
            Vote.stage_id == stage.id, Vote.participant_id == record["p"], Vote.criterion == "",
            Vote.value == freed))
        return (record["before"], record["moved"]) if taken is None else (now, None)

    def _summary(self, stage, ranks: dict[int, int]) -> dict:
        return {"choices": {f"{i}:": v for i, v in ranks.items()}, "top": self.setting(stage, "top")}

    def mine(self, stage, participant):
        ranks = {v.item_id: v.value for v in self.my_votes(stage, participant)}
        return {**self._summary(stage, ranks), "ideas": self.my_items(stage, participant)}

    def results(self, stage):
        votes = db.session.execute(
            select(Vote.item_id, Participant.group, Vote.value)
            .join(Participant, Vote.participant_id == Participant.id)
            .where(Vote.stage_id == stage.id, Vote.criterion == ""))
        return voting.borda(votes, self.active_ids(stage), self.setting(stage, "top"))

    def decide(self, stage, form):
        """The primary audience (required) and any secondary ones."""
        choices = dict(self.decision_choices(stage))
        primary = form.primary_id.data
        if primary not in choices:
            raise Refused(_l("Choose the primary audience."))
        secondary = [i for i in form.item_ids.data if i != primary]
        if any(i not in choices for i in secondary):
            raise Refused(_l("Choose what was decided from this stage's ideas."))
        return {"item_ids": [primary, *secondary], "primary_id": primary}

    def decision_item_ids(self, decision):
        primary = [decision["primary_id"]] if "primary_id" in decision else []
        return [*decision.get("item_ids", []), *primary]

    def renumber_decision(self, decision, ids):
        renumbered = super().renumber_decision(decision, ids)
        if "primary_id" in decision:
            renumbered["primary_id"] = ids[decision["primary_id"]]
        return renumbered

    def strategy_part(self, stage, by_id):
        decision = stage.decision or {}
        primary = decision.get("primary_id")
        return {"primary": by_id.get(primary),
                "secondary": [by_id[i] for i in decision.get("item_ids", []) if i in by_id and i != primary]}


register(AudienceStage())
