"""What the facilitator and phones send in Review concepts: a concept, a rating, a comment."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ...checks import strip

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
                      validators=[InputRequired(
                          message=_l("Pick keep, change or concern for your comment."))],
                      validate_choice=True)
    text = TextAreaField(_l("Comment"), filters=[strip], validators=[
        DataRequired(message=_l("Write your comment.")), Length(max=1000)])
