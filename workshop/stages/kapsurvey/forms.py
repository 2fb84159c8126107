"""What the KAP survey on phones takes: the wave it collects (the console), and one screen's answers (phones).

The answers' form is built from the campaign's questionnaire (kapform.Question): one field per
question, named `q_` + the question's name (never a name of the form's own), taking one of its
answers' names or nothing (every question is optional). Built once per questionnaire shape and
kept, so checks.parse's cache stays small.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Optional

from ...campaign_forms import WAVE_LABELS

WAVE_CHOICES = tuple(WAVE_LABELS.items())
NOT_AN_ANSWER = _l("Choose one of the answers.")
MAX_FORMS = 64
PREFIX = "q_"


def field(name: str) -> str:
    """Return the form field (and phone input) name of a question."""
    return PREFIX + name


class SurveySettingsForm(Form):
    wave = SelectField(_l("Answers go to the campaign’s"), validators=[InputRequired()],
                       choices=[SelectChoice(key, words) for key, words in WAVE_CHOICES])


_forms: dict[tuple, type[Form]] = {}


def answers_form(questions) -> type[Form]:
    """Return the form class that checks one screen of answers to these questions (any subset of them);
    its `data` maps `field(name)` to an answer's name, or "" for a question not answered."""
    shape = tuple((q.name, tuple(c.name for c in q.choices)) for q in questions)
    form = _forms.get(shape)
    if form is None:
        if len(_forms) >= MAX_FORMS:
            _forms.clear()
        fields = {field(name): StringField(name, validators=[Optional(), AnyOf(answers,
                                                                               message=NOT_AN_ANSWER)])
                  for name, answers in shape}
        form = _forms[shape] = type("AnswersForm", (Form,), fields)
    return form
