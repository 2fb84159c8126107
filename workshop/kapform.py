"""The KAP questionnaire in a neutral form, and the one mapping from it to XLSForm field names.

A question (campaign_models.KapQuestion) belongs to a section: the segment questions (age
band, place, gender) and the knowledge, attitude and practice items. Each is a select_one
from an answer list: the fixed lists below, or (segments) its own. `good` names the answers
that count: the right answer (knowledge), the favourable side (attitude), doing the
practice (practice).

`questions(campaign)` gives every question as a `Question` (name, XLSForm type, group,
choices, labels in every language, never required): the XLSForm (`xlsform`, written by
xlsform.py) and the survey on phones (stages/kapsurvey) read this form only. `columns(question)`
is the one place that says which column headers an export of that XLSForm has for the
question, for the import.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from . import xlsform as sheets
from .i18n import LANGUAGES

SECTIONS = ("segment", "knowledge", "attitude", "practice")
SECTION_LABELS = {"segment": _l("About the respondent"), "knowledge": _l("Knowledge"),
                  "attitude": _l("Attitudes"), "practice": _l("Practices")}
# The XLSForm group of each section: KoboToolbox exports a question of it as `group/name`,
# ODK Central as `group-name`.
GROUPS = {"segment": "respondent", "knowledge": "knowledge", "attitude": "attitudes", "practice": "practices"}
PREFIX = {"knowledge": "k", "attitude": "a", "practice": "p"}  # item names: k1, a1, p1...

# The fixed answer lists (XLSForm list_name -> [(choice name, label)]).
ANSWERS = {
    "truefalse": (("true", _l("True")), ("false", _l("False")), ("dont_know", _l("Don't know"))),
    "agree5": (("strongly_disagree", _l("Strongly disagree")), ("disagree", _l("Disagree")),
               ("neutral", _l("Neither agree nor disagree")), ("agree", _l("Agree")),
               ("strongly_agree", _l("Strongly agree"))),
    "yesno": (("yes", _l("Yes")), ("no", _l("No"))),
    "often5": (("never", _l("Never")), ("rarely", _l("Rarely")), ("sometimes", _l("Sometimes")),
               ("often", _l("Often")), ("always", _l("Always"))),
}
OWN = "own"  # a segment question's own answers
SECTION_ANSWERS = {"segment": (OWN,), "knowledge": ("truefalse",), "attitude": ("agree5",),
                   "practice": ("yesno", "often5")}
ANSWER_LABELS = {"yesno": _l("Yes or no"), "often5": _l("How often (never … always)")}
# What may count, per answer list: a key the editor offers -> (its words, the answers that count).
GOOD = {
    "truefalse": {"true": (_l("The right answer is True"), ("true",)),
                  "false": (_l("The right answer is False"), ("false",))},
    "agree5": {"agree": (_l("Agreeing is favourable"), ("agree", "strongly_agree")),
               "disagree": (_l("Disagreeing is favourable"), ("disagree", "strongly_disagree"))},
    "yesno": {"yes": (_l("“Yes” is the practice we want"), ("yes",)),
              "no": (_l("“No” is the practice we want"), ("no",))},
    "often5": {"always": (_l("Always"), ("always",)), "often": (_l("Often or always"), ("often", "always")),
               "sometimes": (_l("Sometimes or more often"), ("sometimes", "often", "always")),
               "rarely": (_l("Rarely or never"), ("never", "rarely")), "never": (_l("Never"), ("never",))},
}
GOOD_QUESTION = {"knowledge": _l("Right answer"), "attitude": _l("Favourable side"),
                 "practice": _l("Counts as practising")}


@dataclass(frozen=True)
class Choice:
    name: str
    labels: dict  # language -> label


@dataclass(frozen=True)
class Question:
    """One question as a form (XLSForm, a phone) asks it. Every question may be left unanswered."""

    name: str
    section: str
    list_name: str
    labels: dict          # language -> question text
    choices: tuple        # Choice, in order
    good: tuple = ()      # the answers that count; empty for segments (and items not finished)
    required: bool = False

    @property
    def type(self) -> str:
        return f"select_one {self.list_name}"

    @property
    def group(self) -> str:
        return GROUPS[self.section]

    @property
    def path(self) -> str:
        """The field's path in the form, as KoboToolbox names its column."""
        return f"{self.group}/{self.name}"


def fixed_choices(list_name: str) -> tuple[Choice, ...]:
    """Return a fixed answer list with its labels in every language."""
    labels = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            labels[lang] = [str(label) for _name, label in ANSWERS[list_name]]
    return tuple(Choice(name, {lang: labels[lang][i] for lang in LANGUAGES})
                 for i, (name, _label) in enumerate(ANSWERS[list_name]))


def question(row) -> Question:
    """Return one stored question (KapQuestion) in the neutral form."""
    if row.answers == OWN:
        choices = tuple(Choice(c["name"], dict(c.get("labels", {}))) for c in row.choices)
        list_name = row.name
    else:
        choices, list_name = fixed_choices(row.answers), row.answers
    return Question(name=row.name, section=row.section, list_name=list_name, labels=dict(row.labels or {}),
                    choices=choices, good=tuple(row.good or ()))


def questions(campaign) -> list[Question]:
    """Return the campaign's questionnaire: segments first, then knowledge, attitudes, practices."""
    rows = sorted(campaign.questions, key=lambda q: (SECTIONS.index(q.section), q.position, q.id))
    return [question(row) for row in rows]


def columns(q: Question) -> tuple[str, ...]:
    """Return the headers an export may give a question: `group/name` (KoboToolbox), `group-name`
    (ODK Central, Briefcase), or the bare name (KoboToolbox without groups in headers)."""
    return (f"{q.group}/{q.name}", f"{q.group}-{q.name}", q.name)


def label(labels: dict, language: str, fallback: str) -> str:
    """Return a text in a language, else in English, else in any language it has, else `fallback`."""
    return labels.get(language) or labels.get("en") or next((t for t in labels.values() if t), fallback)


def xlsform(campaign) -> sheets.Questionnaire:
    """Return the questionnaire as an XLSForm for KoboToolbox / ODK enumerators.

    A group per section (`begin group` ... `end group`, one screen each in ODK Collect:
    `field-list`), named as `GROUPS` says, so an export's columns are what `columns` expects;
    a label in every language (a text missing in one reads as in English or the language it
    is written in, so no enumerator sees an empty line; the editor shows what is missing);
    nothing required; `start` and `end` times, as KoboToolbox's own forms have.
    """
    rows = [sheets.Question("start", "start"), sheets.Question("end", "end")]
    choices: dict[str, list] = {}
    groups: dict[str, list] = {}
    for q in questions(campaign):
        groups.setdefault(q.section, []).append(q)
    for section, these in groups.items():
        group = GROUPS[section]
        rows.append(sheets.Question("begin group", group, sheets.translated(SECTION_LABELS[section]),
                                    appearance="field-list"))
        for q in these:
            labels = {lang: label(q.labels, lang, q.name) for lang in LANGUAGES}
            rows.append(sheets.Question(q.type, q.name, labels, required=q.required))
            choices.setdefault(q.list_name, [(c.name, {lang: label(c.labels, lang, c.name)
                                                       for lang in LANGUAGES}) for c in q.choices])
        rows.append(sheets.Question("end group", group))
    return sheets.Questionnaire(
        title=campaign.title, form_id=f"charrette_kap_{campaign.id}", version=version(campaign),
        questions=rows, choices=choices,
        default_language=campaign.language if campaign.language in LANGUAGES else "en")


def version(campaign) -> str:
    """Return the form's version: a number that changes whenever a question, answer or text does."""
    text = repr([(q.name, q.section, q.list_name, sorted(q.labels.items()),
                  [(c.name, sorted(c.labels.items())) for c in q.choices]) for q in questions(campaign)])
    return str(int(zlib.crc32(text.encode())))


# Columns every export has and the import reads: the submission's id and time (first found wins).
ID_COLUMNS = ("_uuid", "meta/instanceID", "meta-instanceID", "instanceID", "KEY")
TIME_COLUMNS = ("_submission_time", "SubmissionDate", "end")


def good_key(q) -> str:
    """Return the editor's key for what counts in a question (`good`), or "" if not chosen yet."""
    for key, (_words, names) in GOOD.get(q.answers, {}).items():
        if tuple(q.good or ()) == names:
            return key
    return ""


def missing_labels(q) -> list[str]:
    """Return the languages a question's text (or one of its own answers) is missing in."""
    langs = [lang for lang in LANGUAGES if not (q.labels or {}).get(lang, "").strip()]
    for choice in (q.choices or []) if q.answers == OWN else []:
        langs += [lang for lang in LANGUAGES if not choice.get("labels", {}).get(lang, "").strip()]
    return sorted(set(langs), key=list(LANGUAGES).index)
