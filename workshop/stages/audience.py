"""Choose the audience: segments with a profile are proposed, ranked (Borda) and decided.

A participant ranks their top N (default 3): 1st gets N points, 2nd N-1, ...
Giving a rank to another segment takes it from the one that had it, so a
ballot never holds one rank twice. The decision names the primary audience
and, optionally, secondary ones.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from wtforms import BooleanField, Form, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .. import voting
from ..errors import Refused
from ..extensions import db
from ..forms import strip
from ..models import Participant, Vote
from .base import StageKind

MAX_TOP = 5
# The profile of a segment, beyond who they are: (field, label, max length).
PROFILE = (
    ("age", _l("Age range"), 40),
    ("place", _l("Where they live"), 120),
    ("channels", _l("Where they get information"), 200),
    ("knowledge", _l("What they know today"), 300),
    ("attitudes", _l("What they believe today"), 300),
    ("practices", _l("What they do today"), 300),
)


def _text(label, size):
    return TextAreaField(label, filters=[strip], validators=[Optional(), Length(max=size)])


class SegmentForm(Form):
    title = StringField(_l("Who"), filters=[strip], validators=[
        DataRequired(message=_l("Say in one line who the audience is.")), Length(max=120)])
    age = StringField(_l("Age range"), filters=[strip], validators=[Optional(), Length(max=40)])
    place = StringField(_l("Where they live"), filters=[strip], validators=[Optional(), Length(max=120)])
    channels = StringField(_l("Where they get information"), filters=[strip],
                           validators=[Optional(), Length(max=200)])
    knowledge = _text(_l("What they know today"), 300)
    attitudes = _text(_l("What they believe today"), 300)
    practices = _text(_l("What they do today"), 300)


class RankForm(Form):
    item_id = IntegerField(_l("Audience"), validators=[InputRequired(), NumberRange(min=1)])
    value = IntegerField(_l("Rank"), validators=[InputRequired(), NumberRange(min=0, max=MAX_TOP)])


class RankSettingsForm(Form):
    top = IntegerField(_l("Ranks per participant"), validators=[
        InputRequired(), NumberRange(min=1, max=MAX_TOP)])
    show_groups = BooleanField(_l("Show groups on projector"))


class AudienceStage(StageKind):
    key = "audience"
    label = _l("Choose the audience")
    defaults = {"top": 3, "show_groups": False}
    template = "stages/audience.html"
    ItemForm = SegmentForm
    VoteForm = RankForm
    SettingsForm = RankSettingsForm
    noun = _l("audience")
    profile = PROFILE

    def item_fields(self, form):
        return {"title": form.title.data, "detail": "",
                "data": {name: getattr(form, name).data or "" for name, _label, _size in PROFILE}}

    def vote(self, stage, participant, form, client_id):
        """Give `value` (1 = first choice; 0 = none) to one segment."""
        item_id, place = form.item_id.data, form.value.data
        top = stage.setting("top")
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

    @staticmethod
    def _summary(stage, ranks: dict[int, int]) -> dict:
        return {"choices": {f"{i}:": v for i, v in ranks.items()}, "top": stage.setting("top")}

    def mine(self, stage, participant):
        ranks = {v.item_id: v.value for v in self.my_votes(stage, participant)}
        return {**self._summary(stage, ranks), "ideas": self.my_items(stage, participant)}

    def results(self, stage):
        votes = db.session.execute(
            select(Vote.item_id, Participant.group, Vote.value)
            .join(Participant, Vote.participant_id == Participant.id)
            .where(Vote.stage_id == stage.id, Vote.criterion == ""))
        return voting.borda(votes, self.active_ids(stage), stage.setting("top"))

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
