"""What the facilitator and phones send in a pre-test: a material, one person's answers, a code, settings."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Form, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from ...checks import strip

# The five questions of message pre-testing, each on a 5-point scale (Vote.criterion = the key).
DIMENSIONS = (
    ("attraction", _l("Attraction"), _l("Does it catch your eye?")),
    ("comprehension", _l("Comprehension"), _l("Is it clear?")),
    ("acceptability", _l("Acceptability"), _l("Do you believe it?")),
    ("involvement", _l("Self-involvement"), _l("Is it for people like you?")),
    ("persuasion", _l("Persuasion"), _l("Would you do what it asks?")),
)
# Words under each point of the scale (with a face drawn for each: screens.html).
SCALE = ((1, _l("No, not at all")), (2, _l("Not really")), (3, _l("Not sure")), (4, _l("Yes, mostly")),
         (5, _l("Yes, very much")))
# Open answers (Vote.note of a row with value 0): the first is coded by the facilitator.
TEXTS = (
    ("said", _l("What is this saying to you?")),
    ("change", _l("What would you change? (optional)")),
    ("dislike", _l("What did you dislike? (optional)")),
    ("offensive", _l("Is anything offensive or confusing? (optional)")),
)
# The facilitator's code of an open answer "what is this saying to you?" (Vote.criterion "code").
CODES = ((1, "understood", _l("Understood")), (2, "partly", _l("Partly")), (3, "misunderstood",
                                                                            _l("Misunderstood")))
CODE_VALUES = {key: value for value, key, _label in CODES}
# Default thresholds (share scoring 4-5, in %): comprehension is what a message cannot do without.
THRESHOLDS = {"attraction": 60, "comprehension": 70, "acceptability": 60, "involvement": 60,
              "persuasion": 60, "understood": 70}
MAX_TEXT = 1000


def _scale(label):
    return IntegerField(label, validators=[Optional(), NumberRange(min=1, max=5)])


def _text(label):
    return TextAreaField(label, filters=[strip], validators=[Optional(), Length(max=MAX_TEXT)])


class MaterialForm(Form):
    title = StringField(_l("Material title"), filters=[strip], validators=[
        DataRequired(message=_l("Give the material a title.")), Length(max=120)])
    detail = TextAreaField(_l("Text or transcript (what people read or hear)"), filters=[strip],
                           validators=[Optional(), Length(max=5000)])
    link = StringField(_l("Link to the video or audio (optional)"), filters=[strip], validators=[
        Optional(), Length(max=500), URL(require_tld=False, message=_l("Give a full link (http://...)."))])
    channel = StringField(_l("Channel / format"), filters=[strip], validators=[Optional(), Length(max=120)])
    warning = StringField(_l("Content warning (shown before the material)"), filters=[strip],
                          validators=[Optional(), Length(max=300)])


class AnswerForm(Form):
    """One person's answers on one material: five scales and the open answers, all optional."""

    item_id = IntegerField(_l("Material"), validators=[InputRequired(), NumberRange(min=1)])
    attraction = _scale(DIMENSIONS[0][1])
    comprehension = _scale(DIMENSIONS[1][1])
    acceptability = _scale(DIMENSIONS[2][1])
    involvement = _scale(DIMENSIONS[3][1])
    persuasion = _scale(DIMENSIONS[4][1])
    said = _text(TEXTS[0][1])
    change = _text(TEXTS[1][1])
    dislike = _text(TEXTS[2][1])
    offensive = _text(TEXTS[3][1])


class CodingForm(Form):
    """The console's code of one participant's answer to "what is this saying to you?"."""

    stage_id = IntegerField(_l("Stage"), validators=[InputRequired(), NumberRange(min=1)])
    item_id = IntegerField(_l("Material"), validators=[InputRequired(), NumberRange(min=1)])
    participant_id = IntegerField(_l("Participant"), validators=[InputRequired(), NumberRange(min=1)])
    code = SelectField(_l("Code"), choices=[*CODE_VALUES, "none"], validators=[InputRequired()])


def _threshold(label, default):
    return IntegerField(label, default=default, validators=[Optional(), NumberRange(min=0, max=100)])


class PretestSettingsForm(Form):
    show_groups = BooleanField(_l("Show segments on projector"))
    th_attraction = _threshold(_l("Attraction: % scoring 4-5 needed"), THRESHOLDS["attraction"])
    th_comprehension = _threshold(_l("Comprehension: % scoring 4-5 needed"), THRESHOLDS["comprehension"])
    th_acceptability = _threshold(_l("Acceptability: % scoring 4-5 needed"), THRESHOLDS["acceptability"])
    th_involvement = _threshold(_l("Self-involvement: % scoring 4-5 needed"), THRESHOLDS["involvement"])
    th_persuasion = _threshold(_l("Persuasion: % scoring 4-5 needed"), THRESHOLDS["persuasion"])
    th_understood = _threshold(_l("Understood (coded): % needed"), THRESHOLDS["understood"])
