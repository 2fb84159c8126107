"""The forms of the pages (sign-in, workshops, report, sharing) and of the console's socket events.

Stage kinds bring their own forms (workshop/stages/); every form is checked by checks.parse
or by Flask-WTF's validate_on_submit.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
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
    ValidationError,
)

from .checks import REQUIRED, one_line, strip
from .flow.workshops import default_groups
from .i18n import LANGUAGES
from .i18n import current as current_language

MIN_PASSWORD = 10
EMAIL = [REQUIRED, Email(message=_l("Enter a valid e-mail address.")), Length(max=254)]


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=EMAIL,
                       filters=[strip])
    password = PasswordField(_l("Password"), validators=[REQUIRED, Length(max=200)])
    remember = BooleanField(_l("Keep me signed in"))


# A new password (sign-up, password change): long enough, and typed twice the same.
NEW_PASSWORD = [REQUIRED, Length(min=MIN_PASSWORD, max=200,
                                 message=_l("Use at least %(n)d characters.", n=MIN_PASSWORD))]
CONFIRMED = [REQUIRED, EqualTo("password", message=_l("The passwords do not match."))]


class SignupForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[REQUIRED, Length(max=120)], filters=[one_line])
    email = EmailField(_l("E-mail"), validators=EMAIL,
                       filters=[strip])
    password = PasswordField(_l("Password"), validators=NEW_PASSWORD)
    confirm = PasswordField(_l("Repeat password"), validators=CONFIRMED)


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[REQUIRED, Length(max=200)])
    password = PasswordField(_l("New password"), validators=NEW_PASSWORD)
    confirm = PasswordField(_l("Repeat password"), validators=CONFIRMED)


class InviteForm(FlaskForm):
    email = EmailField(_l("Their e-mail"), validators=EMAIL, filters=[strip])


class WorkshopForm(FlaskForm):
    title = StringField(_l("Title"), validators=[REQUIRED, Length(max=200)], filters=[strip])
    topic = StringField(_l("Campaign topic"), validators=[REQUIRED, Length(max=200)],
                        filters=[strip],
                        description=_l("e.g. Trafficking in persons, campus sexual violence"))
    description = TextAreaField(_l("Short description"), validators=[Optional(), Length(max=2000)],
                                filters=[strip])
    groups = TextAreaField(_l("Stakeholder groups (one per line)"),
                           default=lambda: "\n".join(default_groups()),
                           validators=[REQUIRED, Length(max=2000)])
    collect_names = BooleanField(_l("Ask participants for their name (default: anonymous)"))
    language = SelectField(_l("Language of the projector and report"), validators=[DataRequired()],
                           description=_l("Each participant picks the language of their own phone."))
    template = SelectField(_l("Stages"), default="campaign", validators=[DataRequired()],
                           description=_l("You can add, remove, reorder and rename stages later."))
    safeguarding = BooleanField(_l("Safeguarding mode for a sensitive topic (always on for a pre-test)"))

    def __init__(self, *args, templates=(), **kwargs):
        """Offer the workshop templates given (the stage registry's, passed in by the view)."""
        super().__init__(*args, **kwargs)
        self.template.choices = [(key, str(label)) for key, label in templates]
        self.language.choices = list(LANGUAGES.items())
        if self.language.data is None:  # a new form starts in the facilitator's own language
            self.language.data = current_language()

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


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language of the projector and report"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = list(LANGUAGES.items())


class InvitationForm(FlaskForm):
    label = StringField(_l("Who is it for?"), filters=[strip], description=_l("E.g. the agency's name."),
                        validators=[DataRequired(message=_l("Say who the link is for.")), Length(max=120)])


class CodeForm(FlaskForm):
    code = StringField(_l("Workshop code"), validators=[
        REQUIRED, Length(min=6, max=12, message=_l("A workshop code has 6 characters."))], filters=[
        lambda v: "".join(v.split()).upper() if isinstance(v, str) else v])


class JoinForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[Optional(), Length(max=80)], filters=[strip])
    group = SelectField(_l("Your stakeholder group"), validators=[REQUIRED], choices=[],
                        validate_choice=True)


# --- socket payloads: what the console sends (checks.parse checks them) ---------

class EmptyForm(Form):
    """An event that carries nothing (timer:stop)."""


class ItemIdForm(Form):
    item_id = IntegerField(_l("Idea"), validators=[REQUIRED, NumberRange(min=1)])


class StageIdForm(Form):
    stage_id = IntegerField(_l("Stage"), validators=[REQUIRED, NumberRange(min=1)])


class PhaseForm(StageIdForm):
    phase = StringField(_l("Phase"), validators=[REQUIRED, Length(max=16)])


class HideForm(ItemIdForm):
    hidden = BooleanField(_l("Hidden"))


class MergeForm(Form):
    source_id = IntegerField(_l("Idea to merge"), validators=[REQUIRED, NumberRange(min=1)])
    target_id = IntegerField(_l("Merge into"), validators=[REQUIRED, NumberRange(min=1)])


class CommentHideForm(Form):
    comment_id = IntegerField(_l("Comment"), validators=[REQUIRED, NumberRange(min=1)])
    hidden = BooleanField(_l("Hidden"))


class ReasonHideForm(Form):
    vote_id = IntegerField(_l("Reason"), validators=[REQUIRED, NumberRange(min=1)])
    hidden = BooleanField(_l("Hidden"))


class RetitleForm(ItemIdForm):
    title = StringField(_l("Corrected title"), filters=[strip], validators=[REQUIRED, Length(max=200)])


class TimerForm(Form):
    seconds = IntegerField(_l("Timer"), validators=[REQUIRED, NumberRange(min=10, max=4 * 3600)])


class TimerAddForm(Form):
    seconds = IntegerField(_l("Time to add"), validators=[REQUIRED, NumberRange(min=10, max=3600)])


class RevealForm(StageIdForm):
    revealed = BooleanField(_l("Revealed"))


class DecisionForm(StageIdForm):
    """One form for every kind's decision; the kind checks the parts it uses."""

    item_ids = SelectMultipleField(_l("Decision"), coerce=int, validate_choice=False,
                                   validators=[Optional()])
    primary_id = IntegerField(_l("Primary audience"), validators=[Optional(), NumberRange(min=1)])
    verdicts = SelectMultipleField(_l("Verdicts"), validate_choice=False, validators=[Optional()])
    # A note per decided item (what must change in it): `item_notes[n]` belongs to `note_ids[n]`.
    note_ids = SelectMultipleField(_l("Items"), coerce=int, validate_choice=False, validators=[Optional()])
    item_notes = SelectMultipleField(_l("What must change"), validate_choice=False, validators=[Optional()])
    rationale = TextAreaField(_l("Rationale"), filters=[strip], validators=[
        DataRequired(message=_l("Say why the group chose this.")), Length(max=4000)])
    minority_view = TextAreaField(_l("Minority view"), validators=[Optional(), Length(max=4000)])


class NotesForm(StageIdForm):
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10000)])


class FocusForm(StageIdForm):
    item_id = IntegerField(_l("Item"), validators=[REQUIRED, NumberRange(min=0)])  # 0: browse


class NewStageForm(Form):
    kind = StringField(_l("Kind of stage"), validators=[REQUIRED, Length(max=32)])


class MoveStageForm(StageIdForm):
    offset = IntegerField(_l("Move"), validators=[REQUIRED, NumberRange(min=-1, max=1)])


class EditStageForm(StageIdForm):
    title = StringField(_l("Stage title"), filters=[strip], validators=[
        DataRequired(message=_l("Give the stage a title.")), Length(max=200)])
    prompt = TextAreaField(_l("Prompt shown to the room"), filters=[strip], validators=[
        DataRequired(message=_l("Write the question the room answers.")), Length(max=1000)])
    warning = StringField(_l("Content warning (optional, shown before the content)"), filters=[strip],
                          validators=[Optional(), Length(max=300)])


# --- the report (issue 4) ---------------------------------------------------------

class SafeguardingForm(FlaskForm):
    """Safeguarding and how people take part: consent, helpline, retention, self-paced, segment questions."""

    safeguarding = BooleanField(_l("Safeguarding mode: consent screen, no names, contact details masked, "
                                   "quick exit"))
    consent_note = TextAreaField(_l("Anything to add to the consent screen (optional)"), filters=[strip],
                                 validators=[Optional(), Length(max=2000)])
    helpline = TextAreaField(_l("Helpline or referral line, shown on the last screen (optional)"),
                             filters=[strip], validators=[Optional(), Length(max=1000)],
                             description=_l("e.g. Trafficking hotline 108 (free, 24 hours)"))
    retention_days = IntegerField(_l("Delete the answers this many days after the workshop closes"),
                                  validators=[Optional(), NumberRange(min=0, max=3650)],
                                  description=_l("Empty: keep them. The figures and the report stay."))
    self_paced = BooleanField(_l("Self-paced: each person goes through the questions at their own pace"))
    moderation = BooleanField(_l("Moderation: phones' ideas and comments reach the projector only once you "
                                 "approve them (on by default in safeguarding mode)"))
    shuffle_ballots = BooleanField(_l("Shuffle ballots: each phone lists the items in its own order, so no "
                                      "item gains from being first"))
    ages = TextAreaField(_l("Age bands to ask (one per line; empty: do not ask)"), filters=[strip],
                         validators=[Optional(), Length(max=1000)])
    places = TextAreaField(_l("Places to ask (one per line; empty: do not ask)"), filters=[strip],
                           validators=[Optional(), Length(max=1000)])
    ask_gender = BooleanField(_l("Ask gender (optional to answer)"))


class ReportSettingsForm(FlaskForm):
    """The report's cover and paper: who sends it, their logo, A4 or US Letter."""

    org_name = StringField(_l("Organisation name"), filters=[strip], validators=[Optional(), Length(max=200)],
                           description=_l("Shown on the cover and at the foot of every page."))
    logo = FileField(_l("Logo (PNG, JPEG or WebP, up to 8 MB)"))
    remove_logo = BooleanField(_l("Remove the logo"))
    page_size = SelectField(_l("Paper size"), choices=[SelectChoice("A4", _l("A4")),
                                                        SelectChoice("Letter", _l("US Letter"))],
                            validators=[InputRequired(message=_l("Choose A4 or US Letter."))])
# --- share & data: the report by e-mail, share links, import, delete ----------------

MAX_RECIPIENTS = 20  # a report goes to a handful of partners; more is a mailing list's job


class SendReportForm(FlaskForm):
    recipients = TextAreaField(
        _l("Send to"), validators=[InputRequired(), Length(max=5000)],
        description=_l("E-mail addresses, one per line or separated by commas (at most %(n)d).",
                       n=MAX_RECIPIENTS))
    subject = StringField(_l("Subject"), filters=[one_line], validators=[InputRequired(), Length(max=200)])
    message = TextAreaField(_l("Message"), filters=[strip], validators=[InputRequired(), Length(max=5000)])

    def validate_recipients(self, field):
        """Split the addresses, check each one, drop duplicates; keep them in `addresses`."""
        from email_validator import EmailNotValidError, validate_email
        addresses, wrong = [], []
        for part in (field.data or "").replace(";", ",").replace("\n", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                address = validate_email(part, check_deliverability=False).normalized
            except EmailNotValidError:
                wrong.append(part[:80])
                continue
            if address.lower() not in {a.lower() for a in addresses}:  # one copy per mailbox in practice
                addresses.append(address)
        if wrong:
            raise ValidationError(_l("Not an e-mail address: %(list)s", list=", ".join(wrong[:5])))
        if not addresses:
            raise ValidationError(_l("Give at least one e-mail address."))
        if len(addresses) > MAX_RECIPIENTS:
            raise ValidationError(_l("At most %(n)d recipients at a time.", n=MAX_RECIPIENTS))
        self.addresses = addresses


class ShareLinkForm(FlaskForm):
    label = StringField(_l("Who is it for?"), filters=[strip], validators=[Optional(), Length(max=200)],
                        description=_l("e.g. Ministry of Labour: only you see this."))
    days = IntegerField(_l("Valid for (days)"), validators=[Optional(), NumberRange(min=1, max=365)],
                        description=_l("Empty: works until you revoke it."))


class DeleteWorkshopForm(FlaskForm):
    confirm = StringField(_l("Type the workshop code to confirm"), filters=[strip],
                          validators=[InputRequired(), Length(max=12)])


class ImportForm(FlaskForm):
    file = FileField(_l("Workshop file (.json)"), validators=[
        FileRequired(message=_l("Choose a workshop file exported from Charrette."))])
