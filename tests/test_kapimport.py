"""Baseline and endline imports from KoboToolbox and ODK exports: CSV and XLSX, names or labels, and every
malformed file refused with its row and column named and nothing stored."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from scripts import report_campaign as gen
from tests.conftest import gen_facilitator
from workshop import kapform, kapimport
from workshop.campaign_models import Survey, SurveyResponse
from workshop.errors import Refused
from workshop.extensions import db
from workshop.flow import questionnaire

PASSWORD = "correct horse battery"


@pytest.fixture
def campaign(app):
    return gen.build(gen_facilitator(), participants=4, images=False, surveys=0)


@pytest.fixture
def rows():
    return gen.survey_rows("baseline", 60, 5)


def stored() -> tuple[int, int]:
    return (db.session.scalar(select(func.count(Survey.id))),
            db.session.scalar(select(func.count(SurveyResponse.id))))


def answers(campaign, wave):
    return [r.answers for r in campaign.survey(wave).responses]


@pytest.mark.parametrize("export, name", [(gen.kobo_csv, "kobo.csv"), (gen.kobo_xlsx, "kobo.xlsx"),
                                          (gen.odk_csv, "odk.csv")])
def test_kobo_and_odk_exports_import_every_answer(campaign, rows, export, name):
    survey = kapimport.import_survey(campaign, "baseline", export(rows), name, "Fac")
    assert len(survey.responses) == 60
    assert answers(campaign, "baseline") == rows  # skipped questions stay absent, not wrong
    assert survey.responses[0].uuid and survey.responses[0].submitted
    assert "_id" in survey.ignored or "SubmitterID" in survey.ignored
    assert not {"knowledge/k1", "respondent-gender", "_uuid", "meta-instanceID"} & set(survey.ignored)


def test_bare_names_and_labels_in_any_language_are_read_as_the_answers(campaign, rows):
    table = gen.kobo_table(rows)
    header = [h.split("/")[-1] for h in table[0]]  # KoboToolbox without groups in the headers
    labels = {c.name: c.labels for q in kapform.questions(campaign) for c in q.choices}
    langs = ["en", "nb", "sv", "mn"]
    body = [[labels[cell][langs[i % 4]] if cell in labels and i % 3 else cell for cell in line]
            for i, line in enumerate(table[1:])]
    out = io.StringIO()
    csv.writer(out).writerows([header, *body])
    kapimport.import_survey(campaign, "endline", out.getvalue().encode(), "labels.csv", "Fac")
    assert answers(campaign, "endline") == rows


def _csv(table) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(table)
    return out.getvalue().encode()


def refused(campaign, raw: bytes, name="bad.csv") -> list[str]:
    """Import a file that must be refused; return the problems named, after checking nothing was stored."""
    before = stored()
    with pytest.raises(kapimport.FileRefused) as caught:
        kapimport.import_survey(campaign, "baseline", raw, name, "Fac")
    assert stored() == before and campaign.survey("baseline") is None
    return [caught.value.message, *caught.value.problems]


def test_an_answer_that_is_none_of_the_questions_answers_is_named_by_row_and_column(campaign, rows):
    table = gen.kobo_table(rows)
    col = table[0].index("knowledge/k2")
    table[5][col] = "maybe"
    table[9][table[0].index("respondent/gender")] = "robot"
    problems = refused(campaign, _csv(table))
    letter = kapimport.column_letter(col)
    assert any(f"Row 6, column {letter} (knowledge/k2): “maybe”" in p and "true, false, dont_know" in p
               for p in problems), problems
    assert any("Row 10" in p and "respondent/gender" in p and "robot" in p for p in problems)


def test_a_file_of_another_questionnaire_is_refused_with_the_missing_columns(campaign, rows):
    full = gen.kobo_table(rows)
    gone = [full[0].index("respondent/gender"), full[0].index("practices/p2")]
    table = [[cell for i, cell in enumerate(line) if i not in gone] for line in full]
    problems = refused(campaign, _csv(table))
    assert "does not match" in problems[0]
    assert any("No column" in p and "respondent/gender, practices/p2" in p for p in problems), problems


def test_the_same_submission_twice_and_a_column_twice_are_refused(campaign, rows):
    table = gen.kobo_table(rows)
    table[3][table[0].index("_uuid")] = table[2][table[0].index("_uuid")]
    problems = refused(campaign, _csv(table))
    assert any("Row 4" in p and "also in row 3" in p for p in problems)
    twice = gen.kobo_table(rows)
    twice[0][1] = "start"
    assert any("appears twice" in p for p in refused(campaign, _csv(twice)))


@pytest.mark.parametrize("raw, name, words", [
    (b"", "empty.csv", "no responses"),
    (b"knowledge/k1\n", "header-only.csv", "no responses"),
    ("Å;ø\n".encode("latin-1") + b"\xff\xfe", "latin1.csv", "not UTF-8"),
    (b"PK\x03\x04 not really a workbook", "broken.xlsx", "not a readable XLSX"),
])
def test_unreadable_files_are_refused(campaign, raw, name, words):
    assert words in refused(campaign, raw, name)[0]


def test_many_problems_are_counted_not_all_listed(campaign):
    rows = gen.survey_rows("baseline", 40, 3)
    for r in rows:
        r["k1"] = "perhaps"
    problems = refused(campaign, gen.kobo_csv(rows))
    assert len(problems) <= kapimport.MAX_PROBLEMS + 2 and "more" in problems[-1]


def test_a_wave_is_replaced_only_when_asked_and_then_at_once(campaign, rows):
    kapimport.import_survey(campaign, "baseline", gen.kobo_csv(rows), "first.csv", "Fac")
    with pytest.raises(Refused, match="has 60 responses already"):
        kapimport.import_survey(campaign, "baseline", gen.kobo_csv(rows[:10]), "second.csv", "Fac")
    assert len(campaign.survey("baseline").responses) == 60
    bad = gen.kobo_table(rows[:10])
    bad[2][bad[0].index("knowledge/k1")] = "yes?"
    with pytest.raises(kapimport.FileRefused):
        kapimport.import_survey(campaign, "baseline", _csv(bad), "bad.csv", "Fac", replace=True)
    kept = campaign.survey("baseline")
    assert len(kept.responses) == 60 and kept.filename == "first.csv"
    kapimport.import_survey(campaign, "baseline", gen.kobo_csv(rows[:10]), "second.csv", "Fac", replace=True)
    assert len(campaign.survey("baseline").responses) == 10 and stored() == (1, 10)


def test_answers_fix_the_questionnaires_shape_but_not_its_wording(campaign, rows):
    kapimport.import_survey(campaign, "baseline", gen.kobo_csv(rows), "kobo.csv", "Fac")
    assert questionnaire.locked(campaign)
    k1 = next(q for q in campaign.questions if q.name == "k1")
    with pytest.raises(Refused, match="imported"):
        questionnaire.remove_question(campaign, k1.id)
    with pytest.raises(Refused, match="imported"):
        questionnaire.add_question(campaign, "knowledge")
    form = {f"q{k1.id}.label.{lang}": text for lang, text in k1.labels.items()}
    form[f"q{k1.id}.label.en"] = "Licensed agencies never charge you a fee."
    form[f"q{k1.id}.good"] = "true"
    for q in campaign.questions:
        if q.id != k1.id:
            form.update({f"q{q.id}.label.{lang}": text for lang, text in q.labels.items()})
            form[f"q{q.id}.answers"] = q.answers
            form[f"q{q.id}.good"] = kapform.good_key(q)
            for n, c in enumerate(q.choices):
                form[f"q{q.id}.c{n}.name"] = c["name"]
                form.update({f"q{q.id}.c{n}.{lang}": t for lang, t in c["labels"].items()})
    assert questionnaire.save(campaign, form) == {}
    assert k1.labels["en"] == "Licensed agencies never charge you a fee."
    p1 = next(q for q in campaign.questions if q.name == "p1")
    form[f"q{p1.id}.answers"] = "often5"
    errors = questionnaire.save(campaign, form)
    assert f"q{p1.id}.answers" in errors and p1.answers == "yesno"


def test_the_import_page_shows_the_problems_and_the_columns_it_expects(app, client, campaign, rows):
    client.post("/login", data={"email": "fac@example.org", "password": PASSWORD})
    page = client.get(f"/campaigns/{campaign.id}/surveys").get_data(as_text=True)
    assert "knowledge/k1" in page and "respondent/age_band" in page and "strongly_disagree" in page
    table = gen.kobo_table(rows)
    table[4][table[0].index("attitudes/a1")] = "meh"
    reply = client.post(f"/campaigns/{campaign.id}/surveys", data={
        "wave": "baseline", "file": (io.BytesIO(_csv(table)),
                                     "kobo.csv")}, content_type="multipart/form-data")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400 and "Row 5, column" in html and "attitudes/a1" in html and "meh" in html
    assert campaign.survey("baseline") is None
    reply = client.post(f"/campaigns/{campaign.id}/surveys", data={
        "wave": "endline", "file": (io.BytesIO(gen.kobo_xlsx(rows)), "kobo.xlsx")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Endline imported: 60 responses." in reply.get_data(as_text=True)
    reply = client.post(f"/campaigns/{campaign.id}/surveys/endline/delete", follow_redirects=True)
    assert reply.status_code == 200 and campaign.survey("endline") is None
