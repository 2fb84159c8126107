"""Import a baseline or endline from a KoboToolbox or ODK export (CSV or XLSX) of the KAP questionnaire.

The file's columns are matched to the questionnaire by the names its XLSForm gives them
(kapform.columns: `group/name` as KoboToolbox writes them, `group-name` as ODK Central
does, or the bare name); an answer may be the answer's name (the XML value) or its label
in any of the questionnaire's languages. Columns that are no question (`_id`, `start`,
notes...) are kept aside and listed. Anything that does not match (a question without a
column, an answer that is none of its answers, the same submission twice) refuses the
whole file with the rows and columns named: nothing is stored unless all of it is right,
and then all of it in one transaction.
"""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select

from . import kapform
from .campaign_models import WAVES, Campaign, Survey, SurveyResponse
from .errors import Refused
from .extensions import db
from .models import Stage, Workshop

MAX_BYTES = 10 * 1024 * 1024  # a KAP export of thousands of respondents is a few MB
MAX_ROWS = 20_000
MAX_PROBLEMS = 12  # listed in the refusal; the count says how many more
NOT_AN_ANSWER = _l("Row %(row)d, column %(col)s (%(name)s): “%(value)s” is not one of its answers "
                   "(%(answers)s).")
TWICE = _l("Row %(row)d, column %(col)s (%(name)s): the submission %(uuid)s is also in row %(first)d.")


class FileRefused(Refused):
    """A file that does not match: the problems, each with its row and column."""

    def __init__(self, message, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []


def read_table(raw: bytes, filename: str) -> list[list[str]]:
    """Return the file's rows as text cells: the first row is the header. CSV (any of , ; tab) or XLSX."""
    if len(raw) > MAX_BYTES:
        raise FileRefused(_l("The file is larger than %(mb)d MB.", mb=MAX_BYTES // (1024 * 1024)))
    if raw[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _xlsx(raw)
    return _capped(read_csv(raw, _l("The file is not UTF-8 text. Export it again as CSV (UTF-8) or XLSX.")))


def read_csv(raw: bytes, not_utf8) -> list[list[str]]:
    """Return a UTF-8 CSV file's rows (the separator, comma, semicolon or tab, read off the header)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused(not_utf8) from None
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx(raw: bytes) -> list[list[str]]:
    """Return the first sheet of an XLSX file (KoboToolbox puts the responses there) as text cells."""
    from openpyxl import load_workbook
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise FileRefused(_l("The file is not a readable XLSX workbook.")) from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell(v) for v in values])
            if len(rows) > MAX_ROWS + 1:
                break
    finally:
        book.close()
    return _capped(rows)


def _cell(value) -> str:
    """Return a spreadsheet cell as the text an export means (1.0 -> "1", a date in ISO form)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _capped(rows: list[list[str]]) -> list[list[str]]:
    """Drop empty rows at the end; refuse an empty or too long file."""
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if len(rows) < 2:
        raise FileRefused(_l("The file has no responses: a header row and at least one row of answers "
                             "are needed."))
    if len(rows) - 1 > MAX_ROWS:
        raise FileRefused(_l("The file has more than %(n)d responses.", n=MAX_ROWS))
    return rows


def check(campaign: Campaign, rows: list[list[str]]) -> tuple[list[dict], list[str]]:
    """Match a table to the questionnaire; return the responses and the columns that are no question.

    Raises FileRefused with every problem (up to MAX_PROBLEMS) found in the whole file.
    """
    questions = kapform.questions(campaign)
    if not questions:
        raise FileRefused(_l("The campaign has no questionnaire yet: write it first."))
    header = [h.strip().lstrip("\ufeff") for h in rows[0]]
    problems = [str(_l("Column %(col)s (“%(name)s”) appears twice.", col=column_letter(i), name=name))
                for i, name in enumerate(header) if name and name in header[:i]]
    where, missing = {}, []
    for q in questions:
        found = next((header.index(c) for c in kapform.columns(q) if c in header), None)
        if found is None:
            missing.append(q.path)
        else:
            where[q.name] = found
    if missing:
        problems.insert(0, str(_l("No column for the question(s) %(names)s: is this an export of this "
                                  "questionnaire’s form?", names=", ".join(missing[:10]))))
    if problems:
        raise FileRefused(_l("The file does not match the questionnaire."), problems)
    answers = {q.name: _answer_names(q) for q in questions}
    id_col = next((header.index(c) for c in kapform.ID_COLUMNS if c in header), None)
    time_col = next((header.index(c) for c in kapform.TIME_COLUMNS if c in header), None)
    responses, seen, bad = [], {}, 0
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        got = {}
        for q in questions:
            cell = row[where[q.name]].strip() if where[q.name] < len(row) else ""
            if not cell:
                continue  # every question may be left unanswered
            name = answers[q.name].get(cell.casefold())
            if name is None:
                bad += 1
                if len(problems) < MAX_PROBLEMS:
                    problems.append(str(NOT_AN_ANSWER) % {
                        "row": number, "col": column_letter(where[q.name]), "name": header[where[q.name]],
                        "value": cell[:60], "answers": ", ".join(c.name for c in q.choices)})
                continue
            got[q.name] = name
        uuid = row[id_col].strip()[:64] if id_col is not None and id_col < len(row) else ""
        if uuid and uuid in seen:
            bad += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append(str(TWICE) % {"row": number, "col": column_letter(id_col),
                                               "name": header[id_col], "uuid": uuid, "first": seen[uuid]})
        seen.setdefault(uuid, number)
        submitted = row[time_col].strip()[:40] if time_col is not None and time_col < len(row) else ""
        responses.append({"row": number, "uuid": uuid, "submitted": submitted, "answers": got})
    if problems:
        if bad > len(problems):
            problems.append(str(_l("… and %(n)d more.", n=bad - len(problems))))
        raise FileRefused(_l("The file does not match the questionnaire."), problems)
    read = {*where.values(), id_col, time_col}
    ignored = [name for i, name in enumerate(header) if name and i not in read]
    return responses, ignored


def _answer_names(q: kapform.Question) -> dict[str, str]:
    """Return what a cell may hold for each answer: its name or a label, any case -> the answer's name."""
    out = {}
    for choice in q.choices:
        for text in choice.labels.values():
            out.setdefault(text.strip().casefold(), choice.name)
    for choice in q.choices:
        out[choice.name.casefold()] = choice.name  # a name wins over another answer's label
    return out


def column_letter(index: int) -> str:
    """Return a column's spreadsheet letter (0 -> A, 26 -> AA)."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def import_survey(campaign: Campaign, wave: str, raw: bytes, filename: str, author: str,
                  replace: bool = False) -> Survey:
    """Read, check and store a wave's export, replacing the earlier import only if asked; all or nothing."""
    if wave not in WAVES:
        raise Refused(_l("Choose the baseline or the endline."))
    existing = campaign.survey(wave)
    if existing is not None and not replace:
        raise Refused(_l("This survey has %(n)d responses already. Tick “Replace” to import the new file "
                         "instead (it replaces them all, those given on phones too).",
                         n=existing.respondents))
    responses, ignored = check(campaign, read_table(raw, filename))
    try:
        if existing is not None:
            _delete(existing)
        survey = Survey(campaign=campaign, wave=wave, filename=filename[:200], ignored=ignored[:200],
                        author=author[:120])
        db.session.add(survey)
        db.session.flush()
        db.session.execute(insert(SurveyResponse), [{"survey_id": survey.id, **r} for r in responses])
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    db.session.expire(campaign, ["surveys"])
    return survey


def composition(survey: Survey) -> dict:
    """Return where a survey's respondents come from: imported from a file, given on phones in a
    workshop of the campaign [(title, code, n)], or kept only as totals after retention [(title, n)]."""
    phones = db.session.execute(
        select(Workshop.title, Workshop.code, func.count(SurveyResponse.id))
        .join(Stage, Stage.workshop_id == Workshop.id)
        .join(SurveyResponse, SurveyResponse.stage_id == Stage.id)
        .where(SurveyResponse.survey_id == survey.id).group_by(Workshop.id).order_by(Workshop.title)).all()
    return {"imported": len(survey.responses) - sum(n for _t, _c, n in phones), "phones": phones,
            "kept": [(part.get("workshop", ""), part.get("respondents", 0)) for part in survey.kept or []]}


def delete_survey(campaign: Campaign, wave: str) -> None:
    """Delete an imported baseline or endline (its responses with it)."""
    survey = campaign.survey(wave)
    if survey is not None:
        _delete(survey)
        db.session.commit()
        db.session.expire(campaign, ["surveys"])


def _delete(survey: Survey) -> None:
    """Delete a survey and its responses with two statements (not one ORM delete per response)."""
    db.session.execute(delete(SurveyResponse).where(SurveyResponse.survey_id == survey.id))
    db.session.execute(delete(Survey).where(Survey.id == survey.id))
    db.session.expire(survey.campaign, ["surveys"])
    db.session.expunge(survey)
