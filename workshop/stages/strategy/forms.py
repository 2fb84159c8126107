"""What the facilitator writes into the agreed strategy, and a phone's fist-of-five."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form, IntegerField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from ...checks import strip

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
