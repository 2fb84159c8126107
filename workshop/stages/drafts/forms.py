"""What the facilitator and phones send in Vote on drafts: a draft, a verdict with its reason."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ...checks import strip

# Stored as Vote.value: the order is the order of support.
VALUES = {"reject": 0, "changes": 1, "approve": 2}


class DraftForm(Form):
    title = StringField(_l("Draft title"), filters=[strip], validators=[
        DataRequired(message=_l("Give the draft a title.")), Length(max=120)])
    channel = StringField(_l("Channel / format"), filters=[strip], validators=[Optional(), Length(max=120)])
    detail = TextAreaField(_l("Text (script, post copy...)"), filters=[strip],
                           validators=[Optional(), Length(max=5000)])


class VerdictForm(Form):
    item_id = IntegerField(_l("Draft"), validators=[InputRequired(), NumberRange(min=1)])
    value = SelectField(_l("Your verdict"), choices=list(VALUES), validators=[InputRequired()])
    note = TextAreaField(_l("Reason / change needed"), filters=[strip], validators=[Length(max=1000)])

    def validate_note(self, field):
        if self.value.data in ("changes", "reject") and not field.data:
            raise ValidationError(_l("Say what must change (or why you reject it)."))
