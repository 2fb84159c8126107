"""What a phone sends in Pick a trend: an idea, dots on an idea; and the stage's settings."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Form, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ...checks import strip

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
