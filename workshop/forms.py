"""Every input, from a page form or a socket event, is checked by a form here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    EmailField,
    Form,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from .errors import Refused

DEFAULT_GROUPS = ["Government", "Civil society", "UN / donor", "Creative partner", "Youth", "Other"]
MIN_PASSWORD = 10


def strip(value):
    """Filter: drop surrounding whitespace from text input."""
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Email(), Length(max=254)],
                       filters=[strip])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in"))


class SignupForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[InputRequired(), Length(max=120)], filters=[strip])
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Email(), Length(max=254)],
                       filters=[strip])
    password = PasswordField(_l("Password"), validators=[
        InputRequired(), Length(min=MIN_PASSWORD, max=200,
                                message=_l("Use at least %(n)d characters.", n=MIN_PASSWORD))])
    confirm = PasswordField(_l("Repeat password"), validators=[
        InputRequired(), EqualTo("password", message=_l("The passwords do not match."))])


class WorkshopForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)], filters=[strip])
    topic = StringField(_l("Campaign topic"), validators=[InputRequired(), Length(max=200)],
                        filters=[strip],
                        description=_l("e.g. Trafficking in persons, campus sexual violence"))
    description = TextAreaField(_l("Short description"), validators=[Optional(), Length(max=2000)],
                                filters=[strip])
    groups = TextAreaField(_l("Stakeholder groups (one per line)"),
                           default="\n".join(DEFAULT_GROUPS),
                           validators=[InputRequired(), Length(max=2000)])
    collect_names = BooleanField(_l("Ask participants for their name (default: anonymous)"))
    template = SelectField(_l("Stages"), default="campaign", validators=[DataRequired()],
                           description=_l("You can add, remove, reorder and rename stages later."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .stages import TEMPLATES
        self.template.choices = [(key, str(label)) for key, (label, _kinds) in TEMPLATES.items()]

    def validate_groups(self, field):
        names = self.group_list()
        if not names:
            raise ValidationError(_l("Give at least one stakeholder group."))
        if len(names) > 20 or any(len(n) > 80 for n in names):
            raise ValidationError(_l("Up to 20 groups of at most 80 characters each."))

    def group_list(self) -> list[str]:
        """Return the groups, one per non-empty line, without duplicates."""
        seen: list[str] = []
        for line in (self.groups.data or "").splitlines():
            name = " ".join(line.split())
            if name and name not in seen:
                seen.append(name)
        return seen


class CodeForm(FlaskForm):
    code = StringField(_l("Workshop code"), validators=[
        InputRequired(), Length(min=6, max=12)], filters=[
        lambda v: "".join(v.split()).upper() if isinstance(v, str) else v])


class JoinForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[Optional(), Length(max=80)], filters=[strip])
    group = SelectField(_l("Your stakeholder group"), validators=[InputRequired()], choices=[],
                        validate_choice=True)


# --- socket payloads ---------------------------------------------------------

CLIENT_ID = [InputRequired(), Length(min=8, max=64),
             Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Invalid request id."))]


def parse(form_class: type[Form], payload) -> Form:
    """Validate a socket payload with a form, or raise Refused with the first error.

    Only flat JSON objects of known fields with scalar (or list-of-scalar) values pass.
    """
    if not isinstance(payload, dict):
        raise Refused(_l("Invalid request."))
    form = form_class()
    known = {field.name for field in form}
    unknown = set(payload) - known
    if unknown:
        raise Refused(_l("Invalid request: unknown field %(name)s.", name=sorted(unknown)[0][:40]))
    pairs = []
    for key, value in payload.items():
        if isinstance(value, list) and not isinstance(getattr(form, key), SelectMultipleField):
            raise Refused(_l("Invalid value for %(name)s.", name=key))  # one value, not the first of many
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (str, int)) or v is None:
                if isinstance(v, bool) and isinstance(getattr(form, key), BooleanField):
                    pairs.append((key, "y") if v else None)
                    continue
                raise Refused(_l("Invalid value for %(name)s.", name=key))
            pairs.append((key, str(v)))
    form = form_class(formdata=MultiDict([p for p in pairs if p]))
    if not form.validate():
        field, errors = next(iter(form.errors.items()))
        label = getattr(form, field).label.text
        raise Refused(f"{label}: {errors[0]}")
    return form


class ClientIdForm(Form):
    cid = StringField(_l("Request id"), validators=CLIENT_ID)


def split_client_id(payload, required: bool = True) -> tuple[str | None, dict]:
    """Take the client-generated request id out of a payload, checking it."""
    if not isinstance(payload, dict):
        raise Refused(_l("Invalid request."))
    fields = {k: v for k, v in payload.items() if k != "cid"}
    if "cid" not in payload and not required:
        return None, fields
    return parse(ClientIdForm, {"cid": payload.get("cid", "")}).cid.data, fields


class ItemIdForm(Form):
    item_id = IntegerField(_l("Idea"), validators=[InputRequired(), NumberRange(min=1)])


class StageIdForm(Form):
    stage_id = IntegerField(_l("Stage"), validators=[InputRequired(), NumberRange(min=1)])


class PhaseForm(StageIdForm):
    phase = StringField(_l("Phase"), validators=[InputRequired(), Length(max=16)])


class HideForm(ItemIdForm):
    hidden = BooleanField(_l("Hidden"))


class MergeForm(Form):
    source_id = IntegerField(_l("Idea to merge"), validators=[InputRequired(), NumberRange(min=1)])
    target_id = IntegerField(_l("Merge into"), validators=[InputRequired(), NumberRange(min=1)])


class TimerForm(Form):
    seconds = IntegerField(_l("Timer"), validators=[InputRequired(), NumberRange(min=10, max=4 * 3600)])


class RevealForm(StageIdForm):
    revealed = BooleanField(_l("Revealed"))


class DecisionForm(StageIdForm):
    """One form for every kind's decision; the kind checks the parts it uses."""

    item_ids = SelectMultipleField(_l("Decision"), coerce=int, validate_choice=False,
                                   validators=[Optional()])
    primary_id = IntegerField(_l("Primary audience"), validators=[Optional(), NumberRange(min=1)])
    verdicts = SelectMultipleField(_l("Verdicts"), validate_choice=False, validators=[Optional()])
    rationale = TextAreaField(_l("Rationale"), filters=[strip], validators=[
        DataRequired(message=_l("Say why the group chose this.")), Length(max=4000)])
    minority_view = TextAreaField(_l("Minority view"), validators=[Optional(), Length(max=4000)])


class NotesForm(StageIdForm):
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10000)])


class FocusForm(StageIdForm):
    item_id = IntegerField(_l("Item"), validators=[InputRequired(), NumberRange(min=0)])  # 0: browse


class NewStageForm(Form):
    kind = StringField(_l("Kind of stage"), validators=[InputRequired(), Length(max=32)])


class MoveStageForm(StageIdForm):
    offset = IntegerField(_l("Move"), validators=[InputRequired(), NumberRange(min=-1, max=1)])


class EditStageForm(StageIdForm):
    title = StringField(_l("Stage title"), filters=[strip], validators=[
        DataRequired(message=_l("Give the stage a title.")), Length(max=200)])
    prompt = TextAreaField(_l("Prompt shown to the room"), filters=[strip], validators=[
        DataRequired(message=_l("Write the question the room answers.")), Length(max=1000)])


# --- the report (issue 4) ---------------------------------------------------------

class ReportSettingsForm(FlaskForm):
    """The report's cover and paper: who sends it, their logo, A4 or US Letter."""

    org_name = StringField(_l("Organisation name"), filters=[strip], validators=[Optional(), Length(max=200)],
                           description=_l("Shown on the cover and at the foot of every page."))
    logo = FileField(_l("Logo (PNG, JPEG or WebP, up to 8 MB)"))
    remove_logo = BooleanField(_l("Remove the logo"))
    page_size = SelectField(_l("Paper size"), choices=[SelectChoice("A4", _l("A4")),
                                                        SelectChoice("Letter", _l("US Letter"))],
                            validators=[InputRequired(message=_l("Choose A4 or US Letter."))])
