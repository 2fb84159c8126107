"""The forms of the campaign's pages: the campaign, its workshops, an amendment, survey and reach files.

Forms with a row per question, indicator or channel (the questionnaire, targets, reach) are
read by the rules that own them (flow/questionnaire.py, kapresults.py, reach.py), which
key every error by its row.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .campaign_models import WAVES
from .checks import REQUIRED, strip
from .i18n import LANGUAGES
from .i18n import current as current_language

WAVE_LABELS = {"baseline": _l("Baseline"), "endline": _l("Endline")}


class CampaignForm(FlaskForm):
    title = StringField(_l("Title"), validators=[REQUIRED, Length(max=200)], filters=[strip])
    topic = StringField(_l("Campaign topic"), validators=[Optional(), Length(max=200)], filters=[strip],
                        description=_l("e.g. Trafficking in persons, campus sexual violence"))
    description = TextAreaField(_l("Short description"), validators=[Optional(), Length(max=2000)],
                                filters=[strip])
    language = SelectField(_l("Language of the campaign's report"), validators=[DataRequired()])
    org_name = StringField(_l("Organisation name"), filters=[strip], validators=[Optional(), Length(max=200)],
                           description=_l("Shown on the cover of the campaign's report."))
    page_size = SelectField(_l("Paper size"), choices=[SelectChoice("A4", _l("A4")),
                                                        SelectChoice("Letter", _l("US Letter"))],
                            validators=[InputRequired(message=_l("Choose A4 or US Letter."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = list(LANGUAGES.items())
        if self.language.data is None:
            self.language.data = current_language()


class NewWorkshopForm(FlaskForm):
    title = StringField(_l("Title of the new workshop"), validators=[REQUIRED, Length(max=200)],
                        filters=[strip])
    template = SelectField(_l("Stages"), validators=[DataRequired()])

    def __init__(self, *args, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.template.choices = [(key, str(label)) for key, label in templates]


class AddWorkshopForm(FlaskForm):
    workshop_id = SelectField(_l("One of your workshops"), coerce=int, validators=[InputRequired()])

    def __init__(self, *args, workshops=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.workshop_id.choices = [(w.id, f"{w.title} ({w.code})") for w in workshops]


class WorkshopMoveForm(FlaskForm):
    workshop_id = HiddenField(validators=[InputRequired()])
    offset = IntegerField(validators=[InputRequired(), NumberRange(min=-1, max=1)])


class WorkshopRemoveForm(FlaskForm):
    workshop_id = HiddenField(validators=[InputRequired()])


class DeleteCampaignForm(FlaskForm):
    confirm = StringField(_l("Type the campaign's title to confirm"), filters=[strip],
                          validators=[InputRequired(), Length(max=200)])


class AmendForm(FlaskForm):
    """The reason and the workshop of an amendment; the item's fields are its kind's own form."""

    reason = TextAreaField(_l("Why does it change?"), filters=[strip], validators=[
        DataRequired(message=_l("Say why the decision changes: the history keeps the reason.")),
        Length(max=4000)], description=_l("e.g. The baseline showed that most already know the hotline."))
    workshop_id = SelectField(_l("Changed in"), coerce=int, validators=[InputRequired()])


class SurveyImportForm(FlaskForm):
    wave = SelectField(_l("Which survey"), choices=[SelectChoice(w, WAVE_LABELS[w]) for w in WAVES],
                       validators=[InputRequired()])
    file = FileField(_l("Export from KoboToolbox or ODK (.csv or .xlsx)"), validators=[
        FileRequired(message=_l("Choose the survey's export file."))])
    replace = BooleanField(_l("Replace the responses imported before for this survey"))


class PhonesForm(FlaskForm):
    """Run the questionnaire on phones: a new workshop of the campaign collecting this survey's answers."""

    wave = SelectField(_l("Which survey"), choices=[SelectChoice(w, WAVE_LABELS[w]) for w in WAVES],
                       validators=[InputRequired()])


class ReachImportForm(FlaskForm):
    file = FileField(_l("Results per channel (.csv)"), validators=[
        FileRequired(message=_l("Choose a CSV file."))])


class EmptyPost(FlaskForm):
    """A button that posts nothing but its CSRF token."""
