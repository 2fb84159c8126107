"""What a phone sends in Choose the audience: a segment with its profile, a rank; and the settings."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Form, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ...checks import strip

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
