"""Pick a trend: ideas are collected, merged, dot-voted, revealed and decided."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update
from wtforms import BooleanField, Form, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .. import voting
from ..errors import Refused
from ..extensions import db
from ..forms import strip
from ..models import Item, Participant, Vote, utcnow
from .base import StageKind

MAX_DOTS = 20


class TrendIdeaForm(Form):
    title = StringField(_l("Trend"), filters=[strip], validators=[
        DataRequired(message=_l("Write the trend in a few words.")), Length(max=120)])
    detail = TextAreaField(_l("Detail (optional)"), filters=[strip],
                           validators=[Optional(), Length(max=1000)])


class DotsForm(Form):
    item_id = IntegerField(_l("Idea"), validators=[InputRequired(), NumberRange(min=1)])
    dots = IntegerField(_l("Dots"), validators=[InputRequired(), NumberRange(min=0, max=MAX_DOTS)])


class DotSettingsForm(Form):
    dots = IntegerField(_l("Dots per participant"), validators=[
        InputRequired(), NumberRange(min=1, max=MAX_DOTS)])
    show_groups = BooleanField(_l("Show groups on projector"))


def _counted(stage, any_value: bool = False):
    """Conditions for the dots that count: this stage, on ideas still in the vote.

    Dots on a hidden idea go back to the participant (and return if it is shown again).
    """
    return (Vote.stage_id == stage.id, Item.hidden.is_(False), Item.merged_into_id.is_(None),
            *(() if any_value else (Vote.value > 0,)))


class TrendStage(StageKind):
    key = "trend"
    label = _l("Pick a trend")
    defaults = {"dots": 3, "show_groups": False}
    template = "stages/trend.html"
    ItemForm = TrendIdeaForm
    VoteForm = DotsForm
    SettingsForm = DotSettingsForm

    def vote(self, stage, participant, form, client_id):
        """Put `dots` dots on one idea (absolute, so a replay changes nothing).

        The caller has locked the participant row, so two tabs racing cannot
        both pass the budget check. This is the hot path of a live session: a handful of plain statements.
        """
        item_id, wanted = form.item_id.data, form.dots.data
        item = db.session.execute(select(Item.stage_id, Item.hidden, Item.merged_into_id)
                                  .where(Item.id == item_id)).first()
        if item is None or item.stage_id != stage.id or item.hidden or item.merged_into_id:
            raise Refused(_l("That idea is not open for voting."))
        allocation = {row.item_id: row for row in db.session.execute(
            select(Vote.item_id, Vote.value, Vote.client_id).join(Item, Vote.item_id == Item.id)
            .where(*_counted(stage, any_value=True), Vote.participant_id == participant.id))}
        existing = allocation.get(item_id)
        dots = {i: row.value for i, row in allocation.items() if row.value > 0}
        if existing is not None and existing.client_id == client_id:
            return self._summary(stage, dots)  # a replay of an action already stored
        budget = stage.setting("dots")
        spent_elsewhere = sum(v for i, v in dots.items() if i != item_id)
        if not voting.within_budget({0: spent_elsewhere, item_id: wanted}, budget):
            raise Refused(_l("You have %(left)d of %(budget)d dots left.",
                             left=max(budget - sum(dots.values()), 0), budget=budget))
        if existing is None:
            db.session.execute(insert(Vote).values(
                stage_id=stage.id, participant_id=participant.id, item_id=item_id, criterion="",
                value=wanted, client_id=client_id, note="", updated_at=utcnow()))
        else:
            db.session.execute(update(Vote).where(
                Vote.participant_id == participant.id, Vote.item_id == item_id, Vote.criterion == "")
                .values(value=wanted, client_id=client_id, updated_at=utcnow())
                .execution_options(synchronize_session=False))
        dots[item_id] = wanted
        return self._summary(stage, {i: v for i, v in dots.items() if v > 0})

    @staticmethod
    def _summary(stage, dots: dict[int, int]) -> dict:
        budget = stage.setting("dots")
        return {"dots": dots, "budget": budget, "left": budget - sum(dots.values())}

    def ballot(self, stage, participant):
        rows = db.session.execute(
            select(Vote.item_id, Vote.value).join(Item, Vote.item_id == Item.id)
            .where(*_counted(stage), Vote.participant_id == participant.id))
        return self._summary(stage, dict(rows.all()))

    def mine(self, stage, participant):
        ideas = db.session.scalars(select(Item.title).filter_by(
            stage_id=stage.id, participant_id=participant.id).order_by(Item.id)).all()
        return {**self.ballot(stage, participant), "ideas": ideas}

    def results(self, stage):
        active = [item.id for item in stage.items if item.active]
        votes = db.session.execute(
            select(Vote.item_id, Participant.group, Vote.value)
            .join(Participant, Vote.participant_id == Participant.id)
            .where(Vote.stage_id == stage.id, Vote.value > 0))
        return voting.dot_tally(votes, active)

    def progress(self, stage):
        voters, dots = db.session.execute(
            select(func.count(func.distinct(Vote.participant_id)), func.coalesce(func.sum(Vote.value), 0))
            .join(Item, Vote.item_id == Item.id).where(*_counted(stage))).one()
        return {"voters": voters, "dots": dots}
