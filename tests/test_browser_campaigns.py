"""A campaign in Debian's Chromium on a real server: every campaign page passes axe-core; the next workshop
is created from the campaign and starts with what was decided (console and projector); a carried decision
is changed with a reason and the open projector shows it at once; a malformed export is refused on the
page; the campaign's report is made by the renderer and offered for download.

With CHARRETTE_SHOTS=<dir> every page is saved as a screenshot to look at (console 1366x768,
projector 1920x1080).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from config import DevelopmentConfig
from scripts import report_campaign as gen
from tests.a11y import axe, blocking, describe
from tests.support import AppProcess, launch_browser, sign_in
from workshop import create_app
from workshop.auth import create_facilitator

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = os.environ.get("CHARRETTE_SHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/campaign-{name}.png", full_page=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server on a database holding the generated campaign (three workshops, 300 + 300 respondents)."""
    tmp = tmp_path_factory.mktemp("campaign")
    app = create_app(DevelopmentConfig(DATABASE_URL=f"sqlite:///{tmp / 'charrette.db'}", DEMO=False,
                                       UPLOAD_DIR=str(tmp / "uploads"), REPORT_DIR=str(tmp / "reports"),
                                       SECRET_KEY="e2e-secret", LOG_LEVEL="ERROR"))
    with app.app_context():
        campaign = gen.build(create_facilitator("demo@example.org", "Amina Haddad", "demo-facilitator"),
                             participants=12)
        ids = {"campaign": campaign.id, "codes": [w.code for w in campaign.workshops]}
        from workshop.extensions import db
        db.session.remove()
        db.engine.dispose()
    process = AppProcess(tmp, DEMO="0", REPORT_DIR=str(tmp / "reports"))
    base = process.start()
    try:
        yield {"base": base, "tmp": tmp, **ids}
    finally:
        process.stop()


def test_every_campaign_page_passes_axe(server):
    base, cid = server["base"], server["campaign"]
    with sync_playwright() as pw:
        browser = launch_browser(pw)
        page = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True).new_page()
        sign_in(page, base)
        found = {}
        tabs = ("edit", "questionnaire", "surveys", "results", "reach", "report")
        pages = [("list", "/campaigns"), ("new", "/campaigns/new"), ("show", f"/campaigns/{cid}")] + [
            (name, f"/campaigns/{cid}/{name}") for name in tabs]
        for name, path in pages:
            page.goto(base + path)
            found[name] = blocking(axe(page))
            shot(page, name)
        browser.close()
    failing = {k: v for k, v in found.items() if v}
    assert failing == {}, "\n".join(f"{k}:\n{describe(v)}" for k, v in failing.items())


def test_the_next_workshop_starts_with_what_was_decided_and_a_change_reaches_the_projector(server):
    base, cid = server["base"], server["campaign"]
    with sync_playwright() as pw:
        browser = launch_browser(pw)
        expect.set_options(timeout=15_000)
        laptop = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
        page = laptop.new_page()
        sign_in(page, base)
        page.goto(f"{base}/campaigns/{cid}")
        page.fill("#title", "Pre-test with young women")
        page.select_option("#template", "drafts")
        page.click("button:has-text('Create and open its console')")
        page.wait_for_url("**/console")
        card = page.locator("details.carried")
        expect(card).to_contain_text("Already decided")
        card.locator("summary").click()
        expect(card).to_contain_text("Fake job offers in closed TikTok groups")
        expect(card).to_contain_text("Ask three questions")
        shot(page, "console-carried")
        assert blocking(axe(page)) == []
        code = page.inner_text(".big-code").strip()
        projector = laptop.new_page()
        projector.set_viewport_size({"width": 1920, "height": 1080})
        projector.goto(f"{base}/w/{code}/present")
        panel = projector.locator(".projector-carried")
        expect(panel).to_contain_text("Young women 18-25 in the border provinces")
        expect(panel).to_contain_text("Ask three questions: before you sign anything.")
        shot(projector, "projector-carried")
        assert blocking(axe(projector)) == []

        # Change the audience's profile from the console's card: a reason is needed.
        card.locator("a:has-text('Change “Young women')").click()
        page.wait_for_url("**/amend/**")
        page.fill("textarea[name=knowledge]", "Most know the hotline; few know licences are free to check.")
        page.click("button:has-text('Change it and record why')")
        expect(page.locator("[role=alert]").first).to_contain_text("Say why the decision changes")
        page.fill("textarea[name=reason]", "The baseline showed 60% know the hotline.")
        shot(page, "amend")
        page.click("button:has-text('Change it and record why')")
        page.wait_for_url(f"**/campaigns/{cid}#strategy")
        expect(page.locator("#history")).to_contain_text("The baseline showed 60% know the hotline.")
        expect(panel).to_contain_text("few know licences are free to check")  # pushed, no reload
        expect(panel).to_contain_text("The baseline showed 60% know the hotline.")
        shot(projector, "projector-changed")
        browser.close()


def test_a_malformed_export_is_refused_on_the_page_and_the_report_is_made(server, tmp_path):
    base, cid = server["base"], server["campaign"]
    rows = gen.survey_rows("endline", 30, 3)
    table = gen.kobo_table(rows)
    table[7][table[0].index("practices/p2")] = "every day"
    bad = tmp_path / "endline.csv"
    import csv
    with bad.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=";").writerows(table)
    with sync_playwright() as pw:
        browser = launch_browser(pw)
        expect.set_options(timeout=15_000)
        page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
        sign_in(page, base)
        page.goto(f"{base}/campaigns/{cid}/surveys")
        page.select_option("#wave", "endline")
        page.set_input_files("#file", str(bad))
        page.check("#replace")
        page.click("button:has-text('Import')")
        expect(page.locator(".file-errors")).to_contain_text("Row 8, column")
        expect(page.locator(".file-errors")).to_contain_text("“every day” is not one of its answers")
        shot(page, "surveys-refused")
        page.goto(f"{base}/campaigns/{cid}/results")
        expect(page.locator("body")).to_contain_text("300 responses")  # the endline is still the old one
        page.goto(f"{base}/campaigns/{cid}/report")
        page.click("button:has-text('Make the report')")
        expect(page.locator(".report-ready")).to_contain_text("Download PDF", timeout=120_000)
        shot(page, "report-ready")
        browser.close()
