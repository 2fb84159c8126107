"""The campaign's report: the story from the trend to the endline in a real, tagged PDF (pdftotext), made by
the same renderer process as a workshop's report; the page, its progress and its downloads."""
from __future__ import annotations

import re

import pytest

from scripts import report_campaign as gen
from tests.conftest import gen_facilitator
from tests.test_report import flat, pdf_info, pdf_objects, pdf_text
from tests.test_report import wait_for as report_wait_for
from workshop import campaign_report, report, report_job
from workshop.campaign_models import CampaignReport
from workshop.extensions import db
from workshop.flow import campaigns

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def report_dir(app, tmp_path):
    app.config["REPORT_DIR"] = str(tmp_path / "reports")
    return tmp_path / "reports"


def wait_for(client, campaign_id):
    """Poll the campaign report's status route until the report is done or failed."""
    return report_wait_for(client, None, url=f"/campaigns/{campaign_id}/report/status")


@pytest.mark.slow
def test_the_report_tells_the_campaign_from_the_trend_to_the_endline(app):
    campaign = gen.build(gen_facilitator(name="Amina Haddad"), participants=20)
    html = campaign_report.render_html(campaign)
    pdf, pages = report.render_pdf(html)
    text = pdf_text(pdf, "-layout")
    whole = flat(pdf_text(pdf))  # in reading order: a table cell's lines stay together
    # The story: each workshop's decisions with rationale and minority view...
    for words in ("Fake job offers in closed TikTok groups",
                  "Every group saw it, and the helpline data confirm it.",
                  "Youth wanted debt bondage first.", "Young women 18-25 in the border provinces",
                  "Ask three questions: before you sign anything.",
                  "Two partners preferred the passport concept.",
                  "Police asked to drop the chatbot.", "Video and poster go ahead with the changes."):
        assert words in whole, words
    # ...the strategy and its history: who changed what, where and why...
    assert "History of the strategy" in whole and "Ask three questions, then call 1-2-3." in whole
    assert "The baseline pilot showed a third believe the embassy keeps passports." in whole
    assert "Many think the embassy keeps passports." in whole
    # ...what changed, against the targets, and reach...
    assert "What changed: baseline and endline" in whole
    assert "target met" in whole and "target not met" in whole
    assert "Baseline: 300 respondents (kobo-baseline.csv)" in whole
    assert re.search(r"Impressions 26,400,000 20,000,000 132\.0%", flat(text))
    # ...and each workshop's full record as an appendix.
    for n, title in enumerate(("Planning workshop", "Concept workshop", "Draft review"), start=1):
        assert f"Appendix {n}: {title}" in whole and f"APPENDIX {n} · " in whole
    assert "Recruiters at bus stations" in whole and "Easy to remember [0]" in whole

    page_texts = text.split("\f")
    assert len(page_texts) - 1 == pages and 20 <= pages <= 45
    contents = flat(page_texts[1])
    for heading in ("The campaign at a glance", "What each workshop decided", "Reach and engagement"):
        found = re.search(rf"{re.escape(heading)} (\d+)", contents)
        assert found and heading in page_texts[int(found[1]) - 1], heading
    for n, page in enumerate(page_texts[1:pages], start=2):
        assert page.lstrip().startswith("Safe migration 2027") and f"Page {n} of {pages}" in page, n
    info = pdf_info(pdf)
    assert "Tagged:          yes" in info and "A4" in info
    assert re.search(rb"/Lang ?\(en\)", pdf_objects(pdf))
    boxes = pdf_text(pdf, "-bbox")
    page_width = float(re.search(r'<page width="([\d.]+)"', boxes)[1])
    assert max(float(x) for x in re.findall(r'xMax="([\d.]+)"', boxes)) <= page_width - 30


def test_the_report_speaks_the_campaigns_language(app):
    campaign = gen.build(gen_facilitator(), participants=4, images=False, surveys=40)
    campaigns.update_campaign(campaign, language="nb", page_size="Letter")
    html = campaign_report.render_html(campaign)
    assert '<html lang="nb">' in html and "size: letter" in html
    assert "Kampanjerapport" in html and "Campaign report" not in html


@pytest.mark.slow
def test_the_report_is_made_in_a_child_process_and_offers_both_files(app, client, report_dir):
    campaign = gen.build(gen_facilitator(), participants=6, images=False, surveys=60)
    client.post("/login", data={"email": "fac@example.org", "password": PASSWORD})
    assert client.get(f"/campaigns/{campaign.id}/report/status").get_json() == {"status": "none"}
    page = client.get(f"/campaigns/{campaign.id}/report").get_data(as_text=True)
    assert "Make the report" in page
    assert client.post(f"/campaigns/{campaign.id}/report/generate").status_code == 302
    again = client.post(f"/campaigns/{campaign.id}/report/generate",
                        follow_redirects=True).get_data(as_text=True)
    assert "being made already" in again or "Download PDF" in again
    state = wait_for(client, campaign.id)
    assert state["status"] == "done", state
    assert state["pages"] >= 10 and state["seconds"] > 0
    row = campaign_report.newest(campaign, done=True)
    pdf = client.get(f"/campaigns/{campaign.id}/report/{row.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and "attachment" in pdf.headers[
        "Content-Disposition"]
    assert "What each workshop decided" in flat(pdf_text(pdf.data))
    pdf.close()
    page = client.get(f"/campaigns/{campaign.id}/report/{row.id}.html")
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "What changed: baseline and endline" in page.get_data(as_text=True)
    page.close()
    assert client.get(f"/campaigns/{campaign.id}/report/{row.id}.exe").status_code == 404
    assert client.get(f"/campaigns/{campaign.id}/report/{row.id + 1}.pdf").status_code == 404


def test_a_failed_render_says_why_and_a_stale_one_does_not_block(app, client):
    campaign = campaigns.create_campaign(gen_facilitator(), title="Empty")
    client.post("/login", data={"email": "fac@example.org", "password": PASSWORD})
    app.config["REPORT_TIMEOUT"] = 0.05
    client.post(f"/campaigns/{campaign.id}/report/generate")
    state = wait_for(client, campaign.id)
    assert state["status"] == "failed" and "longer than" in state["error"]
    assert "could not be made" in client.get(f"/campaigns/{campaign.id}/report").get_data(as_text=True)
    stale = CampaignReport(campaign=campaign, status="rendering")
    db.session.add(stale)
    db.session.commit()
    stale.requested_at = stale.requested_at.replace(year=stale.requested_at.year - 1)
    db.session.commit()
    assert campaign_report.request(campaign).status == "queued" and stale.status == "failed"


def test_the_job_names_each_kind_of_document(app):
    campaign = campaigns.create_campaign(gen_facilitator(), title="Jobs")
    row = campaign_report.request(campaign)
    job = report_job.job_of(row)
    assert job == f"campaign:{row.id}" and report_job.JOB.match(job)
    found, render = report_job.document(job)
    assert found is row and "Jobs" in render(row)
    assert not report_job.JOB.match("campaign:1; rm -rf /")
