"""The KAP questionnaire as an XLSForm for KoboToolbox / ODK: it converts with pyxform (and passes ODK
Validate) keeping every language, and an export of exactly that form, as KoboToolbox and ODK Central
lay it out, imports with the baseline/endline import into the figures an independent computation gives.
"""
from __future__ import annotations

import csv
import io
import random
import uuid
from datetime import datetime, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from pyxform.xls2xform import convert
from sqlalchemy import func, select

from scripts import report_campaign as gen
from tests.conftest import gen_facilitator
from tests.test_kapresults import check, truth
from workshop import kapform, kapimport, kapresults, xlsform
from workshop.campaign_models import SurveyResponse
from workshop.extensions import db
from workshop.i18n import LANGUAGES

XLSFORM_LANGUAGES = ("English (en)", "Norwegian Bokmål (nb)", "Swedish (sv)", "Mongolian (mn)")
KOBO_META = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by",
             "__version__", "_tags", "_index"]


@pytest.fixture
def campaign(app):
    return gen.build(gen_facilitator(), participants=3, images=False, surveys=0)


def workbook(campaign) -> bytes:
    return xlsform.to_xlsx(kapform.xlsform(campaign))


def sheet_rows(book: bytes, name: str) -> list[dict]:
    """Return a sheet of the XLSForm as dicts by its header."""
    rows = list(load_workbook(io.BytesIO(book), read_only=True)[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def form_columns(book: bytes, separator: str) -> list[str]:
    """Return the columns an export of the form has for its questions, read off the survey sheet alone:
    each answered field's path through its groups (KoboToolbox: `group/name`, ODK Central: `group-name`)."""
    groups, out = [], []
    for row in sheet_rows(book, "survey"):
        kind = (row["type"] or "").replace("_", " ")
        if kind == "begin group":
            groups.append(row["name"])
        elif kind == "end group":
            groups.pop()
        elif row["type"].startswith("select_one "):
            out.append(separator.join([*groups, row["name"]]))
    return out


def test_the_xlsform_converts_with_pyxform_and_odk_validate_and_keeps_every_language(campaign):
    book = workbook(campaign)
    result = convert(xlsform=io.BytesIO(book), file_type=".xlsx", validate=True)  # ODK Validate, in Java
    assert result.warnings == []
    for lang in XLSFORM_LANGUAGES:
        assert f'lang="{lang}"' in result.xform
    for name, _section, _answers, _good, labels, *_rest in gen.ITEMS:
        for text in labels.values():  # every language's words, as written in the questionnaire
            assert text.replace("'", "&apos;") in result.xform or text in result.xform, (name, text)
    assert "Мэдэхгүй" in result.xform and "Vet ikke" in result.xform and "Vet inte" in result.xform
    assert 'required="true()"' not in result.xform  # every question optional
    for group in ("respondent", "knowledge", "attitudes", "practices"):
        assert f'<group appearance="field-list" ref="/data/{group}">' in result.xform


def test_the_survey_sheet_has_a_group_per_section_and_the_choices_and_settings_sheets(campaign):
    book = workbook(campaign)
    names = load_workbook(io.BytesIO(book), read_only=True).sheetnames
    assert names == ["survey", "choices", "settings"]
    survey = sheet_rows(book, "survey")
    header = list(survey[0])
    assert header[:2] == ["type", "name"]
    assert [f"label::{lang}" for lang in XLSFORM_LANGUAGES] == [h for h in header if h.startswith("label::")]
    groups = [(r["type"], r["name"]) for r in survey if "group" in r["type"]]
    assert groups == [(kind, name) for name in ("respondent", "knowledge", "attitudes", "practices")
                      for kind in ("begin group", "end group")]
    questions = kapform.questions(campaign)
    asked = [r for r in survey if r["type"].startswith("select_one")]
    assert [r["name"] for r in asked] == [q.name for q in questions]
    assert all(not r["required"] for r in asked)
    assert all(r[f"label::{lang}"] for r in survey if r["type"] != "end group" and r["type"] not in
               ("start", "end") for lang in XLSFORM_LANGUAGES)
    choices = sheet_rows(book, "choices")
    lists = {r["list_name"] for r in choices}
    assert lists == {"age_band", "place", "gender", "truefalse", "agree5", "yesno", "often5"}
    assert all(r[f"label::{lang}"] for r in choices for lang in XLSFORM_LANGUAGES)
    (settings,) = sheet_rows(book, "settings")
    assert settings["form_id"] == f"charrette_kap_{campaign.id}" and settings["form_title"] == campaign.title
    assert settings["default_language"] == "English (en)"
    version = settings["version"]
    campaign.language = "mn"
    k1 = next(q for q in campaign.questions if q.name == "k1")
    k1.labels = {**k1.labels, "mn": "Шинэ үг"}
    db.session.commit()
    (settings,) = sheet_rows(workbook(campaign), "settings")
    assert settings["default_language"] == "Mongolian (mn)" and settings["version"] != version


def test_a_text_missing_in_a_language_reads_as_in_another_and_still_converts_clean(campaign):
    k3 = next(q for q in campaign.questions if q.name == "k3")
    k3.labels = {"mn": "Зөвхөн монголоор"}
    gender = next(q for q in campaign.questions if q.name == "gender")
    gender.choices = [{**c, "labels": {"en": c["labels"]["en"]}} for c in gender.choices]
    db.session.commit()
    book = workbook(campaign)
    row = next(r for r in sheet_rows(book, "survey") if r["name"] == "k3")
    assert {row[f"label::{lang}"] for lang in XLSFORM_LANGUAGES} == {"Зөвхөн монголоор"}
    result = convert(xlsform=io.BytesIO(book), file_type=".xlsx")
    assert result.warnings == [] and "A woman" in result.xform


def kobo_table(book: bytes, rows: list[dict], separator: str = "/", meta: bool = True) -> list[list]:
    """Return respondents as KoboToolbox exports the form ("XML values and headers"): its start and end,
    a column per question named by its path (from the form), then KoboToolbox's own columns."""
    paths = form_columns(book, separator)
    header = ["start", "end", *paths, *(KOBO_META if meta else ["meta-instanceID", "KEY", "SubmissionDate"])]
    table = [header]
    when = datetime(2027, 3, 1, 9, 0)
    for i, row in enumerate(rows):
        start = when + timedelta(minutes=5 * i)
        key = str(uuid.UUID(int=random.Random(i + 7 * len(rows)).getrandbits(128)))
        cells = [start.isoformat() + ".000+08:00", (start + timedelta(minutes=4)).isoformat() + ".000+08:00",
                 *[row.get(path.split(separator)[-1], "") for path in paths]]
        submitted = (start + timedelta(minutes=6)).isoformat()
        cells += ([300000 + i, key, submitted, "", "", "submitted_via_web", "", "vQx9", "", i + 1] if meta
                  else [f"uuid:{key}", f"uuid:{key}", start.isoformat() + "Z"])
        table.append(cells)
    return table


def as_csv(table, delimiter=";") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(table)
    return out.getvalue().encode("utf-8")


def as_xlsx(table) -> bytes:
    book = Workbook()
    for line in table:
        book.active.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SHAPES = {
    "KoboToolbox CSV": (lambda book, rows: as_csv(kobo_table(book, rows)), "kobo.csv"),
    "KoboToolbox XLSX": (lambda book, rows: as_xlsx(kobo_table(book, rows)), "kobo.xlsx"),
    "ODK Central CSV": (lambda book, rows: as_csv(kobo_table(book, rows, "-", meta=False), ","), "odk.csv"),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_an_export_of_exactly_that_form_imports_into_the_expected_figures(campaign, shape):
    book = workbook(campaign)
    questions = kapform.questions(campaign)
    # The columns the form gives its questions are the ones the import reads (kapform.columns).
    assert form_columns(book, "/") == [kapform.columns(q)[0] for q in questions]
    assert form_columns(book, "-") == [kapform.columns(q)[1] for q in questions]
    export, name = SHAPES[shape]
    base, end = gen.survey_rows("baseline", 300, 11), gen.survey_rows("endline", 300, 12)
    for wave, rows in (("baseline", base), ("endline", end)):
        survey = kapimport.import_survey(campaign, wave, export(book, rows), name, "Fac")
        assert len(survey.responses) == 300 and {"start", "end"} <= set(survey.ignored)
    db.session.expire_all()
    expected = truth(base, end)
    published = [ind.published for ind in kapresults.results(campaign)]
    assert {(p["key"], p["segment"]) for p in published} == set(expected)
    for p in published:
        check(p, expected[(p["key"], p["segment"])])
    overall = {p["key"]: p for p in published if not p["segment"]}
    assert overall["score.knowledge"]["significant"] and overall["score.knowledge"]["change"] > 10


@pytest.mark.parametrize("spoil, words", [
    (lambda t: t[7].__setitem__(t[0].index("knowledge/k3"), "yes"),
     "Row 8, column {col} (knowledge/k3): “yes”"),
    (lambda t: t[150].__setitem__(t[0].index("respondent/place"), "Khovd"),
     "Row 151, column {col} (respondent/place): “Khovd”"),
])
def test_a_malformed_export_of_the_form_is_refused_with_row_and_column_and_nothing_stored(campaign, spoil,
                                                                                          words):
    table = kobo_table(workbook(campaign), gen.survey_rows("baseline", 300, 11))
    spoil(table)
    column = next(h for h in ("knowledge/k3", "respondent/place") if h in words)
    with pytest.raises(kapimport.FileRefused) as refused:
        kapimport.import_survey(campaign, "baseline", as_csv(table), "kobo.csv", "Fac")
    letter = kapimport.column_letter(table[0].index(column))
    assert any(words.format(col=letter) in p for p in refused.value.problems), refused.value.problems
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 0
    assert campaign.survey("baseline") is None


def test_every_language_of_the_app_is_a_language_of_the_form():
    assert set(xlsform.XLSFORM_LANGUAGES) == set(LANGUAGES)
