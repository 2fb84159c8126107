"""Questionnaires for ODK Collect and KoboToolbox: an XLSForm out, and the answers they collected back in.

An XLSForm (https://xlsform.org) is a spreadsheet with three sheets: `survey` (one row per
question: type, name, a label per language as `label::English (en)`), `choices` (the
answers of each select list) and `settings` (title, id, version, default language).
`to_xlsx` writes one with openpyxl; tests convert it with pyxform, as KoboToolbox does.

`read_answers` reads what the field team sends back: a CSV (or XLSX) export of that form
as KoboToolbox or ODK Central writes it: one row per respondent, one column per question
named by the question's name (with or without its group: `m12/m12_attraction` or
`m12-m12_attraction`), plus metadata columns (`_uuid`, `start`, `meta/instanceID`...),
which are ignored. A file that does not match the form is refused whole, naming the
lines and columns at fault; nothing is half-read. Stage kinds build their Questionnaire
(`StageKind.questionnaire`) and store the records (`StageKind.import_answers`).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook

from .errors import Refused
from .i18n import LANGUAGES

# XLSForm names a language by its English name and code: `label::Mongolian (mn)`.
XLSFORM_LANGUAGES = {"en": "English", "nb": "Norwegian Bokmål", "sv": "Swedish", "mn": "Mongolian"}
# Columns the tools add to every export (ignored): KoboToolbox's, ODK Central's and the XLSForm metadata.
META = {"start", "end", "today", "deviceid", "username", "simserial", "subscriberid", "phonenumber",
        "audit", "instanceid", "instancename", "uuid", "version", "submissiondate", "key", "submitterid",
        "submittername", "attachmentspresent", "attachmentsexpected", "status", "reviewstate", "edits",
        "formversion", "__version__"}
MAX_ROWS = 20_000
MAX_TEXT = 4000
MAX_ERRORS = 10


@dataclass
class Question:
    """One row of the survey sheet. `labels` and `hints` map a language code to the text."""

    type: str  # "text", "integer", "note", "select_one LIST", "begin group", "end group", "start"...
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)
    required: bool = False
    relevant: str = ""
    appearance: str = ""
    image: str = ""  # a media file name (media::image), uploaded to the server with the form

    @property
    def answered(self) -> bool:
        """True for a question that has a column in the answers (not a note, not a group)."""
        return self.type.replace("_", " ") not in ("note", "begin group", "end group")

    @property
    def list_name(self) -> str | None:
        return self.type.split()[1] if self.type.startswith("select_one ") else None


@dataclass
class Questionnaire:
    title: str
    form_id: str
    version: str
    questions: list[Question]
    choices: dict[str, list[tuple[str, dict[str, str]]]]  # list name -> [(value, {lang: label})]
    languages: list[str] = field(default_factory=lambda: list(LANGUAGES))
    default_language: str = "en"

    def answered(self) -> dict[str, Question]:
        """Return the questions that have a column in the answers, by name."""
        return {q.name: q for q in self.questions if q.answered}


def translated(text) -> dict[str, str]:
    """Return a lazy string in every language: {code: text}."""
    out = {}
    for code in LANGUAGES:
        with force_locale(code):
            out[code] = str(text)
    return out


def column(prefix: str, code: str) -> str:
    """Return a multilingual column name: `label::English (en)`."""
    return f"{prefix}::{XLSFORM_LANGUAGES.get(code, code)} ({code})"


def to_xlsx(form: Questionnaire) -> bytes:
    """Write the questionnaire as an XLSForm workbook (survey, choices, settings); return its bytes."""
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    langs = form.languages
    has_media = any(q.image for q in form.questions)
    survey.append(["type", "name", *(column("label", c) for c in langs), *(column("hint", c) for c in langs),
                   "required", "relevant", "appearance", *([column("media::image", c) for c in langs]
                                                            if has_media else [])])
    for q in form.questions:
        survey.append([q.type, q.name, *(q.labels.get(c, "") for c in langs),
                       *(q.hints.get(c, "") for c in langs), "yes" if q.required else "", q.relevant,
                       q.appearance, *([q.image for _c in langs] if has_media else [])])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", *(column("label", c) for c in langs)])
    for list_name, options in form.choices.items():
        for value, labels in options:
            choices.append([list_name, value, *(labels.get(c, "") for c in langs)])
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language"])
    settings.append([form.title, form.form_id, form.version,
                     f"{XLSFORM_LANGUAGES.get(form.default_language, form.default_language)} "
                     f"({form.default_language})"])
    for sheet in book.worksheets:  # text stays text: openpyxl would store "=..." as a formula
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the answers back -----------------------------------------------------------------

def _table(raw: bytes) -> list[list[str]]:
    """Return the rows of a CSV (comma, semicolon or tab separated, UTF-8) or XLSX file."""
    if raw[:2] == b"PK":  # an XLSX export
        try:
            sheet = load_workbook(io.BytesIO(raw), read_only=True, data_only=True).worksheets[0]
        except Exception:
            raise Refused(_l("This file is neither a CSV nor an XLSX export of the questionnaire.")) from None
        return [["" if cell is None else str(cell) for cell in row]
                for row in sheet.iter_rows(values_only=True)]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused(_l("The file is not UTF-8 text: export it again as CSV (UTF-8).")) from None
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _name(header: str, known) -> str:
    """Return the question name a column stands for: without its group path (`/` or `-`)."""
    header = header.strip()
    for separator in ("/", "-"):
        tail = header.rsplit(separator, 1)[-1]
        if tail in known:
            return tail
    return header


def _is_meta(header: str) -> bool:
    tail = re.split(r"[/-]", header.strip())[-1]
    return header.strip().startswith("_") or tail.lower() in META or header.strip().lower() in META


def read_answers(form: Questionnaire, raw: bytes) -> list[dict]:
    """Read an export of the form's answers; return one {question name: value or None} per row.

    Refuses the whole file (Refused) when a question's column is missing, a column is not the
    form's, or a value is not an answer the question takes; the message names them.
    `_uuid` (or `meta/instanceID`, `KEY`) is kept as the record's `_id`, to spot a second import.
    """
    rows = [row for row in _table(raw) if any(cell.strip() for cell in row)]
    if not rows:
        raise Refused(_l("The file is empty."))
    if len(rows) - 1 > MAX_ROWS:
        raise Refused(_l("The file has more than %(n)d rows.", n=MAX_ROWS))
    questions = form.answered()
    header = rows[0]
    names = [_name(h, questions) for h in header]
    unknown = [h for h, n in zip(header, names, strict=True) if n not in questions and not _is_meta(h) and h]
    missing = [n for n in questions if n not in names]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(str(_l("columns missing: %(names)s", names=", ".join(missing[:MAX_ERRORS]))))
        if unknown:
            parts.append(str(_l("columns that are not in the questionnaire: %(names)s",
                                names=", ".join(h[:60] for h in unknown[:MAX_ERRORS]))))
        raise Refused(_l("This file does not match the questionnaire (%(problems)s). Export the answers "
                         "of this questionnaire's form as CSV with XML values and headers.",
                         problems="; ".join(parts)))
    ids = [n for n, h in enumerate(header) if h.strip().rsplit("/", 1)[-1].lower() in ("_uuid", "instanceid",
                                                                                        "key")]
    labels = {list_name: {str(label).strip().lower(): value for value, langs in options
                          for label in [value, *langs.values()]}
              for list_name, options in form.choices.items()}
    records, errors = [], []
    for line, row in enumerate(rows[1:], start=2):
        row = row + [""] * (len(header) - len(row))
        record = {"_id": next((row[n].strip() for n in ids if row[n].strip()), "")[:100]}
        for cell, name in zip(row, names, strict=False):
            if name not in questions:
                continue
            value, problem = _value(questions[name], cell.strip(), labels)
            if problem:
                errors.append(str(_l("line %(line)d, column %(column)s: %(problem)s", line=line, column=name,
                                     problem=problem)))
            record[name] = value
        records.append(record)
    if errors:
        more = len(errors) - MAX_ERRORS
        raise Refused(_l("Nothing was imported: %(errors)s%(more)s.", errors="; ".join(errors[:MAX_ERRORS]),
                         more=str(_l(" (and %(n)d more)", n=more)) if more > 0 else ""))
    return records


def _value(question: Question, cell: str, labels: dict) -> tuple[object, str | None]:
    """Check one cell against its question: return (value, None) or (None, what is wrong)."""
    if cell == "":
        return None, (str(_l("an answer is required")) if question.required else None)
    if question.list_name:
        value = labels.get(question.list_name, {}).get(cell.lower())
        if value is None:
            return None, str(_l("“%(value)s” is not one of the answers (%(answers)s)", value=cell[:40],
                                answers=", ".join(dict.fromkeys(labels.get(question.list_name,
                                                                           {}).values()))))
        return value, None
    if question.type == "integer":
        try:
            return int(float(cell)), None
        except ValueError:
            return None, str(_l("“%(value)s” is not a whole number", value=cell[:40]))
    if len(cell) > MAX_TEXT:
        return None, str(_l("is longer than %(n)d characters", n=MAX_TEXT))
    return cell, None
