"""The KAP survey on phones: the campaign's questionnaire asked self-paced, each person a respondent of the
baseline or endline; the figures it fills (console, the campaign's page, report, CSV, JSON) checked
against the independent computation of tests/test_kapresults.py; safeguarding (consent, quick exit, no
free text, retention keeping every figure); the survey workshop made from the questionnaire's page.
"""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from scripts import report_campaign as gen
from tests.conftest import gen_facilitator, gen_workshop, screens
from tests.test_kapresults import check, truth
from workshop import events, kapform, kapimport, kapresults
from workshop.campaign_models import Campaign, Survey, SurveyResponse
from workshop.errors import Refused
from workshop.extensions import db
from workshop.flow import agenda, campaigns, phases, questionnaire, workshops
from workshop.models import Participant, utcnow
from workshop.stages import KINDS

PASSWORD = "correct horse battery"


def sample_vote(item_id: int, n: int) -> dict:
    """One screen of answers, for the family tests of every kind (test_kinds.py); a survey has no items."""
    return {"q_k1": ("true", "false")[n % 2], "q_age_band": "18_24"}


def prepare(w, stage) -> Campaign:
    """Put the workshop in a campaign with the generated questionnaire: its survey stage can be answered."""
    campaign = campaigns.create_campaign(w.facilitator, title=f"Campaign of {w.title}", language="en")
    campaigns.add_workshop(campaign, w.id, "Fac")
    gen.write_questionnaire(campaign)
    return campaign


def answer(w, person, answers: dict, cid: str) -> dict:
    """Send one screen of answers as a phone does (through events.run, like the socket and the form post)."""
    return events.run("vote", w, person, {"cid": cid, **{f"q_{k}": v for k, v in answers.items()}})


def give(w, rows: list[dict], tag: str = "p") -> list[Participant]:
    """Let one consenting phone per row answer the questionnaire, a part per screen; return the phones."""
    people = []
    sections = {q.name: q.section for q in kapform.questions(campaigns.campaign_of(w))}
    for n, row in enumerate(rows):
        person = workshops.join(w, None, "", w.groups[0], consent=True)
        for section in kapform.SECTIONS:
            part = {k: v for k, v in row.items() if sections[k] == section}
            answer(w, person, part, f"{tag}{n:05d}{section}")
        people.append(person)
    return people


@pytest.fixture
def survey(app):
    """A campaign with its questionnaire and a survey workshop on phones for the baseline, open."""
    facilitator = gen_facilitator()
    campaign = gen.build(facilitator, participants=3, images=False, surveys=0)
    w = campaigns.survey_workshop(campaign, facilitator, "baseline")
    stage = w.stages[0]
    phases.set_phase(w, stage.id, "vote")
    return campaign, w, stage


def responses(stage=None) -> list[dict]:
    query = select(SurveyResponse.answers).order_by(SurveyResponse.id)
    if stage is not None:
        query = query.where(SurveyResponse.stage_id == stage.id)
    return list(db.session.scalars(query))


def test_the_survey_workshop_starts_self_paced_in_safeguarding_mode_for_the_wave(app, survey):
    campaign, w, stage = survey
    assert w.self_paced and w.safeguarding and w.groups == ["Respondents"] and not w.collect_names
    assert stage.kind == "kapsurvey" and stage.settings["wave"] == "baseline"
    assert campaigns.campaign_of(w) is campaign and w.title == "KAP baseline on phones"
    assert [(x.title, wave, n) for x, _s, wave, n in campaigns.on_phones(campaign)] == [
        ("KAP baseline on phones", "baseline", 0)]
    with pytest.raises(Refused, match="baseline or the endline"):
        campaigns.survey_workshop(campaign, w.facilitator, "midline")
    empty = campaigns.create_campaign(w.facilitator, title="No questions yet")
    with pytest.raises(Refused, match="questionnaire first"):
        campaigns.survey_workshop(empty, w.facilitator, "endline")
    with pytest.raises(Refused, match="agree"):  # safeguarding: no consent, no participation
        workshops.join(w, None, "", w.groups[0])


def test_a_phone_answers_part_by_part_and_is_one_respondent_of_the_wave(app, survey):
    campaign, w, stage = survey
    person = workshops.join(w, None, "", w.groups[0], consent=True)
    reply = answer(w, person, {"age_band": "18_24", "gender": "woman"}, "a-0000001")
    assert reply["mine"] == {"stage_id": stage.id, "choices": {"q_age_band": "18_24", "q_gender": "woman"}}
    answer(w, person, {"k1": "true", "k2": "dont_know"}, "a-0000002")
    answer(w, person, {}, "a-0000003")  # a part skipped whole keeps what was given
    answer(w, person, {"k2": "false"}, "a-0000004")  # back, and changed
    answer(w, person, {"k1": "false"}, "a-0000002")  # a late copy of an action applied before: nothing
    assert responses() == [{"age_band": "18_24", "gender": "woman", "k1": "true", "k2": "false"}]
    survey_ = db.session.scalar(select(Survey))
    assert (survey_.wave, survey_.respondents, survey_.filename) == ("baseline", 1, "Charrette · " + w.title)
    assert questionnaire.locked(campaign)  # answers stored by the questions' names: their shape is fixed
    stored = db.session.scalar(select(SurveyResponse))
    assert stored.participant_id == person.id and stored.stage_id == stage.id and len(stored.uuid) == 32
    # A phone that skips everything is nobody's response.
    answer(w, workshops.join(w, None, "", w.groups[0], consent=True), {}, "b-0000001")
    assert len(responses()) == 1 and KINDS["kapsurvey"].progress(stage) == {"voters": 1}


@pytest.mark.parametrize("payload, message", [
    ({"q_k1": "maybe"}, "k1: Choose one of the answers."),
    ({"q_k1": "Call me on 9911 2233"}, "k1: Choose one of the answers."),  # no free text, nothing to mask
    ({"q_nothing": "true"}, "unknown field q_nothing"),
    ({"k1": "true"}, "unknown field k1"),
    ({"q_k1": ["true", "false"]}, "Invalid value for q_k1"),
])
def test_an_answer_that_is_not_one_of_the_questions_answers_is_refused_and_nothing_stored(
        app, survey, payload, message):
    campaign, w, stage = survey
    person = workshops.join(w, None, "", w.groups[0], consent=True)
    with pytest.raises(Refused, match=re.escape(message)):
        events.run("vote", w, person, {"cid": "x-0000001", "q_age_band": "18_24", **payload})
    db.session.rollback()
    assert responses() == []


def test_a_survey_answers_only_while_open_and_only_in_a_campaign_with_a_questionnaire(app, survey):
    campaign, w, stage = survey
    person = workshops.join(w, None, "", w.groups[0], consent=True)
    phases.set_phase(w, stage.id, "pending")
    with pytest.raises(Refused, match="Voting is closed"):
        answer(w, person, {"k1": "true"}, "c-0000001")
    alone = gen_workshop(w.facilitator, title="Not in a campaign", template="kapsurvey")
    phases.set_phase(alone, alone.stages[0].id, "vote")
    phone = workshops.join(alone, None, "", alone.groups[0], consent=True)
    with pytest.raises(Refused, match="not part of a campaign"):
        answer(alone, phone, {"k1": "true"}, "c-0000002")
    assert "not part of a campaign" in screens(alone)["phone"]
    assert "not part of a campaign" in screens(alone)["console"]
    assert responses() == []


def test_the_socket_and_the_plain_form_post_store_the_same_answers(app, survey, browser):
    campaign, w, stage = survey
    phone = browser()
    phone.http.post(f"/j/{w.code}", data={"consent": "yes", "group": "Respondents"})
    sock = phone.socket(w.code, "phone")
    assert sock.is_connected()
    ack = sock.emit("vote", {"cid": "s-0000001", "q_age_band": "25_34", "q_a1": "agree"}, callback=True)
    assert ack["ok"] and ack["mine"]["choices"] == {"q_age_band": "25_34", "q_a1": "agree"}
    refused = sock.emit("vote", {"cid": "s-0000002", "q_a1": "sometimes"}, callback=True)
    assert not refused["ok"] and "Choose one of the answers" in refused["error"]
    other = browser()  # without JavaScript: the part's form posted as it is
    other.http.post(f"/j/{w.code}", data={"consent": "yes", "group": "Respondents"})
    page = other.http.get(f"/j/{w.code}").get_data(as_text=True)
    assert page.count('name="event" value="vote"') == 4  # a form per part: about you, K, A, P
    other.http.post(f"/j/{w.code}/act", data={"event": "vote", "cid": "f-0000001", "csrf_token": "x",
                                              "q_p1": "yes", "q_p2": "often"})
    assert responses() == [{"age_band": "25_34", "a1": "agree"}, {"p1": "yes", "p2": "often"}]
    again = other.http.get(f"/j/{w.code}").get_data(as_text=True)  # its answers drawn in (no JavaScript)
    assert re.search(r'name="q_p1" value="yes" checked', again) and 'name="q_p1" value="no">' in again


def test_the_phone_shows_a_part_per_screen_in_its_language_and_follows_the_questionnaire(
        app, survey, browser):
    campaign, w, stage = survey
    phone = browser()
    phone.http.post(f"/j/{w.code}", data={"consent": "yes", "group": "Respondents"})
    html = phone.http.get(f"/j/{w.code}").get_data(as_text=True)
    assert len(re.findall(r"data-step[ >]", html)) == 6 and "Part 1 of 4" in html and "Part 4 of 4" in html
    assert "Licensed recruitment agencies never ask you to pay a fee." in html and "Don&#39;t know" in html
    assert "Next person: start again on this phone" in html and "js/exit.js" in html
    phone.http.get("/lang/mn")
    mongolian = phone.http.get(f"/j/{w.code}").get_data(as_text=True)
    assert "Тусгай зөвшөөрөлтэй агентлаг хэзээ ч хураамж авдаггүй." in mongolian
    assert "Licensed recruitment" not in mongolian and "Мэдэхгүй" in mongolian
    assert "Таны мэдлэг, бодол, үйлдлийн талаарх хэдэн асуулт." in mongolian  # the first screen too
    events.run("stage:edit", w, None, {"stage_id": stage.id, "title": stage.title, "prompt": "Our own words"})
    g.pop("_flask_babel", None)
    assert "Our own words" in phone.http.get(f"/j/{w.code}").get_data(as_text=True)  # unless reworded
    # The facilitator rewords a question: the phones' (cached) page shows it at once.
    k1 = next(q for q in campaign.questions if q.name == "k1")
    form = {f"q{q.id}.label.{lang}": text for q in campaign.questions for lang, text in q.labels.items()}
    form.update({f"q{q.id}.good": kapform.good_key(q) for q in campaign.questions if q.section != "segment"})
    form.update({f"q{q.id}.c{n}.{key}": (c["name"] if key == "name" else c["labels"].get(key, ""))
                 for q in campaign.questions if q.section == "segment" for n, c in enumerate(q.choices)
                 for key in ("name", "en", "nb", "sv", "mn")})
    form[f"q{k1.id}.label.mn"] = "Зөвшөөрөлтэй агентлаг мөнгө авдаггүй."
    assert questionnaire.save(campaign, form) == {}
    g.pop("_flask_babel", None)  # the locale the test itself used (one app context for all requests here)
    assert "Зөвшөөрөлтэй агентлаг мөнгө авдаггүй." in phone.http.get(f"/j/{w.code}").get_data(as_text=True)


def test_answers_fill_the_campaigns_figures_in_every_channel_as_they_come(app, survey, client):
    """40 phones answer the baseline here; the endline is imported: every indicator, difference and
    interval on the campaign's page, in its CSV and JSON matches the independent computation, and the
    console's figures of this stage match it for the baseline alone."""
    campaign, w, stage = survey
    base = gen.survey_rows("baseline", 40, 21)
    end = gen.survey_rows("endline", 300, 22)
    give(w, base)
    kapimport.import_survey(campaign, "endline", gen.kobo_csv(end), "kobo-endline.csv", "Fac")
    assert responses(stage) == base
    expected = truth(base, end)
    db.session.expire_all()
    for ind in kapresults.results(db.session.get(Campaign, campaign.id)):
        check(ind.published, expected[(ind.key, ind.published["segment"])])
    client.post("/login", data={"email": "fac@example.org", "password": PASSWORD})
    from_csv = list(csv.DictReader(io.StringIO(client.get(f"/campaigns/{campaign.id}/indicators.csv")
                                               .get_data(as_text=True).lstrip("\ufeff"))))
    document = json.loads(client.get(f"/campaigns/{campaign.id}/indicators.json").get_data(as_text=True))
    for row in [*from_csv, *document["indicators"]]:
        check(row, expected[(row["key"], row["segment"])])
    assert document["surveys"]["baseline"]["responses"] == 40
    page = client.get(f"/campaigns/{campaign.id}/results").get_data(as_text=True)
    assert "40 responses" in page and "300 responses" in page
    surveys_page = client.get(f"/campaigns/{campaign.id}/surveys").get_data(as_text=True)
    assert f"40 given on phones in “{w.title}”" in surveys_page
    # This stage's own figures (console, report, its CSV): the baseline's, from the answers given here.
    lines = {line.key: line for line in KINDS["kapsurvey"].results(stage)}
    for key, line in lines.items():
        n, x, value, _ci = expected[(key, "")]["waves"]["baseline"]
        assert (line.n, line.x) == (n, x) and abs(line.value - value) < 1e-9
    console = screens(w)["console"]
    assert "40</strong> people answered here" in console
    assert "the baseline holds 40 respondents in all" in console
    k1 = lines["item.k1"]
    assert f"<td>{k1.x} of {k1.n}</td>" in console
    table = KINDS["kapsurvey"].export_tables(stage)["kap_survey"]
    assert table[0][:3] == ["wave", "key", "section"] and len(table[1]) == len(lines)


def test_retention_deletes_the_answers_and_keeps_every_figure_of_the_campaign(app, survey, client, runner):
    campaign, w, stage = survey
    base = gen.survey_rows("baseline", 36, 31)
    give(w, base)
    kapimport.import_survey(campaign, "endline", gen.kobo_csv(gen.survey_rows("endline", 120, 32)),
                            "kobo-endline.csv", "Fac")
    before = [ind.published for ind in kapresults.results(campaign)]
    console_before = screens(w)["console"]
    w.retention_days = 30
    db.session.commit()
    workshops.set_open(w, False)
    later = utcnow() + timedelta(days=31)
    outcome = runner.invoke(args=["retention", "--now", later.isoformat()])
    assert "36 survey answers" in outcome.output, outcome.output
    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign.id)
    assert responses(stage) == [] and db.session.scalar(select(func.count(SurveyResponse.id))) == 120
    baseline = campaign.survey("baseline")
    assert baseline.respondents == 36 and baseline.kept[0]["respondents"] == 36
    assert [ind.published for ind in kapresults.results(campaign)] == before  # every figure, to the digit
    assert json.dumps(baseline.kept).count("18_24") >= 1 and "participant" not in json.dumps(baseline.kept)
    w = db.session.get(type(w), w.id)
    after = screens(w)["console"]
    for line in KINDS["kapsurvey"].thaw(w.stages[0].aggregate):
        assert f"<td>{line.x} of {line.n}</td>" in after if line.x is not None else True
    assert re.findall(r"<td>[\d.]+ – [\d.]+</td>", after) == re.findall(r"<td>[\d.]+ – [\d.]+</td>",
                                                                         console_before) != []
    # What counts can no longer change: the kept scores were counted with it.
    k1 = next(q for q in campaign.questions if q.name == "k1")
    errors = questionnaire.save(campaign, {f"q{k1.id}.good": "false", f"q{k1.id}.label.en": k1.labels["en"]})
    assert "what counts can no longer change" in errors[f"q{k1.id}.good"]
    client.post("/login", data={"email": "fac@example.org", "password": PASSWORD})
    page = client.get(f"/campaigns/{campaign.id}/surveys").get_data(as_text=True)
    assert "kept as totals only" in page and "36 responses" in page


def test_the_quick_exit_forgets_the_phone_and_keeps_its_answers_anonymous(app, survey, browser):
    campaign, w, stage = survey
    phone = browser()
    phone.http.post(f"/j/{w.code}", data={"consent": "yes", "group": "Respondents"})
    phone.http.post(f"/j/{w.code}/act", data={"event": "vote", "cid": "q-0000001", "q_k1": "true"})
    person = db.session.scalar(select(Participant).where(Participant.workshop_id == w.id))
    token = person.token
    exit_page = phone.http.get(f"/x?next=/j/{w.code}")  # "Next person"
    assert exit_page.status_code == 302 and exit_page.headers["Location"].endswith(f"/j/{w.code}")
    assert exit_page.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert "Before you start" in phone.http.get(f"/j/{w.code}").get_data(as_text=True)  # consent again
    db.session.expire_all()
    assert db.session.get(Participant, person.id).token != token  # the old cookie is nobody's
    assert responses() == [{"k1": "true"}]  # what was answered stays, with nothing that says who


def test_changing_the_wave_moves_nobody_and_new_people_go_to_the_other_survey(app, survey):
    campaign, w, stage = survey
    first = workshops.join(w, None, "", w.groups[0], consent=True)
    answer(w, first, {"k1": "true"}, "w-0000001")
    events.run("stage:settings", w, None, {"stage_id": stage.id, "wave": "endline"})
    answer(w, first, {"k2": "true"}, "w-0000002")  # the same person: still in the baseline
    second = workshops.join(w, None, "", w.groups[0], consent=True)
    answer(w, second, {"k1": "false"}, "w-0000003")
    db.session.expire_all()
    assert [r.answers for r in campaign.survey("baseline").responses] == [{"k1": "true", "k2": "true"}]
    assert [r.answers for r in campaign.survey("endline").responses] == [{"k1": "false"}]
    console = screens(w)["console"]
    assert "1 answer given here went to the baseline: it stays there." in console
    with pytest.raises(Refused):
        events.run("stage:settings", w, None, {"stage_id": stage.id, "wave": "midline"})


def test_a_stage_with_answers_stays_and_deleting_the_workshop_deletes_them(app, survey):
    campaign, w, stage = survey
    give(w, gen.survey_rows("baseline", 3, 41))
    imported = gen.survey_rows("endline", 5, 42)
    kapimport.import_survey(campaign, "endline", gen.kobo_csv(imported), "e.csv", "F")
    phases.set_phase(w, stage.id, "results")
    other = agenda.add_stage(w, "trend")
    phases.goto_stage(w, other.id)
    with pytest.raises(Refused, match="stays on record"):
        agenda.remove_stage(w, stage.id)
    from workshop import sharing
    sharing.delete_workshop(w, w.code)
    assert responses() == imported  # the imported ones stay


def test_every_phase_renders_on_every_screen_and_the_console_moves_on(app, survey):
    campaign, w, stage = survey
    give(w, gen.survey_rows("baseline", 12, 51))
    for phase in ("pending", "vote", "results"):
        phases.set_phase(w, stage.id, phase)
        html = screens(w)
        assert stage.title in html["console"] and "KAP survey on phones" in html["projector"]
    assert "The survey is closed" in screens(w)["phone"] and "12 people answered" in screens(w)["projector"]
    phases.reveal(w, stage.id, True)
    assert "Knowledge score" in screens(w)["projector"] and "Record the decision" not in screens(w)["console"]
    next_stage = agenda.add_stage(w, "trend")
    back, forward = phases.steps(w)
    assert forward == (next_stage, "collect")  # a survey has no decision: the next stage follows results


def test_the_questionnaires_page_offers_the_xlsform_and_the_survey_on_phones(app, client, survey):
    campaign, w, stage = survey
    client.post("/login", data={"email": "fac@example.org", "password": PASSWORD})
    reply = client.get(f"/campaigns/{campaign.id}/questionnaire.xlsx")
    assert reply.status_code == 200 and reply.data[:2] == b"PK"
    assert "kap-xlsform.xlsx" in reply.headers["Content-Disposition"]
    page = client.get(f"/campaigns/{campaign.id}/questionnaire").get_data(as_text=True)
    assert "Download the XLSForm" in page and "KAP baseline on phones" in page
    empty = campaigns.create_campaign(campaign.facilitator, title="Empty")
    assert client.get(f"/campaigns/{empty.id}/questionnaire.xlsx").status_code == 404
    stranger = gen_facilitator("other@example.org")
    theirs = campaigns.create_campaign(stranger, title="Theirs")
    gen.write_questionnaire(theirs)
    assert client.get(f"/campaigns/{theirs.id}/questionnaire.xlsx").status_code == 403
    created = client.post(f"/campaigns/{campaign.id}/phones", data={"wave": "endline"})
    assert created.status_code == 302 and "/console" in created.headers["Location"]
    assert [wave for _w, _s, wave, _n in campaigns.on_phones(campaign)] == ["baseline", "endline"]
    assert client.post(f"/campaigns/{theirs.id}/phones", data={"wave": "endline"}).status_code == 403


def test_the_workshops_report_exports_and_the_campaigns_report_carry_the_survey(app, survey, tmp_path):
    campaign, w, stage = survey
    give(w, gen.survey_rows("baseline", 15, 61))
    phases.set_phase(w, stage.id, "results")
    from tests.test_report import pdf_text
    from workshop import campaign_report, exports, imports, report
    lines = KINDS["kapsurvey"].results(stage)
    html = report.render_html(w)
    assert "one respondent of the campaign’s baseline" in html
    from markupsafe import escape
    for line in lines:
        assert str(escape(line.label)) in html
    words = " ".join(pdf_text(report.render_pdf(html)[0]).split())
    assert "Knowledge score" in words and f"{lines[0].n} respondents" in words
    import zipfile
    archive = zipfile.ZipFile(io.BytesIO(exports.csv_zip(w)))
    table = list(csv.reader(io.StringIO(archive.read("kap_survey.csv").decode("utf-8-sig"))))
    assert table[0][:4] == ["stage", "stage_title", "wave", "key"] and len(table) == 1 + len(lines)
    assert {row[3] for row in table[1:]} == {line.key for line in lines}
    copy = imports.import_workshop(gen_facilitator("other@example.org"), exports.json_export(w))
    assert copy.stages[0].kind == "kapsurvey" and copy.stages[0].settings["wave"] == "baseline"
    assert copy.self_paced and copy.safeguarding and campaigns.campaign_of(copy) is None
    # The campaign's report: the survey workshop is one of its chapters, its respondents counted.
    document = campaign_report.render_html(campaign)
    assert w.title in document and "15 respondents" in document
