"""Review concepts: each concept is rated 1-5 on five criteria and commented on.

Concepts come from the facilitator or the creative partner (with an image);
phones rate them and leave comments tagged keep / change / concern. The
facilitator can show one concept at a time (phones follow) or let phones
browse. Results: the mean per criterion with how many rated, an overall
comparison, and each stakeholder group's mean.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import Form, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .. import voting
from ..extensions import db
from ..forms import strip
from ..models import Comment, Participant, Vote
from .base import StageKind

CRITERIA = (
    ("clear", _l("Clear")),
    ("relevant", _l("Relevant to the audience")),
    ("appealing", _l("Appealing")),
    ("fitting", _l("Culturally fitting")),
    ("action", _l("Clear call to action")),
)
TAGS = (("keep", _l("Keep")), ("change", _l("Change")), ("concern", _l("Concern")))


class ConceptForm(Form):
    title = StringField(_l("Concept name"), filters=[strip], validators=[
        DataRequired(message=_l("Give the concept a name.")), Length(max=120)])
    message = StringField(_l("Key message"), filters=[strip], validators=[
        DataRequired(message=_l("Write the key message.")), Length(max=200)])
    detail = TextAreaField(_l("Description"), filters=[strip], validators=[Optional(), Length(max=2000)])
    channel = StringField(_l("Format / channel"), filters=[strip], validators=[Optional(), Length(max=120)])


class RatingForm(Form):
    item_id = IntegerField(_l("Concept"), validators=[InputRequired(), NumberRange(min=1)])
    criterion = SelectField(_l("Criterion"), choices=[key for key, _label in CRITERIA],
                            validators=[InputRequired()])
    value = IntegerField(_l("Rating"), validators=[InputRequired(), NumberRange(min=1, max=5)])


class CommentForm(Form):
    item_id = IntegerField(_l("Concept"), validators=[InputRequired(), NumberRange(min=1)])
    tag = SelectField(_l("Kind of comment"), choices=[key for key, _label in TAGS],
                      validators=[InputRequired()])
    text = TextAreaField(_l("Comment"), filters=[strip], validators=[
        DataRequired(message=_l("Write your comment.")), Length(max=1000)])


class ConceptsStage(StageKind):
    key = "concepts"
    label = _l("Review concepts")
    phases = ("pending", "vote", "results", "decided")
    defaults = {"show_groups": False, "focus": None}
    template = "stages/concepts.html"
    ItemForm = ConceptForm
    VoteForm = RatingForm
    CommentForm = CommentForm
    takes_images = True
    noun = _l("concept")
    criteria = CRITERIA
    tags = TAGS

    def item_fields(self, form):
        return {"title": form.title.data, "detail": form.detail.data or "",
                "data": {"message": form.message.data, "channel": form.channel.data or ""}}

    def vote(self, stage, participant, form, client_id):
        self.open_item(stage, form.item_id.data)
        self.store(stage, participant, form.item_id.data, form.criterion.data, form.value.data, client_id)
        return self.mine(stage, participant)

    def mine(self, stage, participant):
        choices = {f"{v.item_id}:{v.criterion}": v.value for v in self.my_votes(stage, participant)}
        comments = db.session.execute(
            select(Comment.item_id, Comment.tag, Comment.text).where(
                Comment.stage_id == stage.id, Comment.participant_id == participant.id)
            .order_by(Comment.id)).all()
        return {"choices": choices,
                "comments": [{"item_id": c.item_id, "tag": c.tag, "text": c.text} for c in comments]}

    def results(self, stage):
        votes = db.session.execute(
            select(Vote.item_id, Vote.participant_id, Participant.group, Vote.criterion, Vote.value)
            .join(Participant, Vote.participant_id == Participant.id)
            .where(Vote.stage_id == stage.id))
        return voting.rubric(votes, self.active_ids(stage), [key for key, _label in CRITERIA])
