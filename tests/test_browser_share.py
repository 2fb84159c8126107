"""Share & data in Debian's Chromium against a real server: links, downloads, import, delete.

Set CHARRETTE_SHOTS=<dir> to keep a screenshot of each screen.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.campaign_data import add_report_row, report_pdf
from tests.support import PHONE, launch_browser, running_server, sign_in

pytestmark = pytest.mark.browser
LAPTOP = {"viewport": {"width": 1440, "height": 900}}


def shot(page, name: str) -> None:
    """Save a full-page screenshot when CHARRETTE_SHOTS names a folder."""
    folder = os.environ.get("CHARRETTE_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_share_page_links_downloads_import_and_delete(tmp_path):
    reports = tmp_path / "reports"
    with running_server(tmp_path, REPORT_DIR=str(reports)) as base, sync_playwright() as pw:
        browser = launch_browser(pw)
        try:
            laptop = browser.new_context(**LAPTOP, accept_downloads=True)
            page = laptop.new_page()
            sign_in(page, base)
            code = page.locator(".workshop-card .code").first.inner_text()
            add_report_row(tmp_path / "charrette.db", reports, code)

            page.click(".workshop-card a:has-text('Console')")
            expect(page.locator("[data-conn=connected]")).to_be_visible()
            shot(page, "console-header")
            page.click(".console-head a:has-text('Share & data')")
            expect(page.locator("h1")).to_have_text("Share & data")
            expect(page.locator(".share-report")).to_contain_text("The newest report was rendered")
            expect(page.locator("#mail-h + p + .notice")).to_contain_text("not set up")
            page.fill("input[name=label]", "Ministry of Labour")
            page.fill("input[name=days]", "30")
            page.click("button:has-text('Create a link')")
            expect(page.locator(".flash-success")).to_contain_text("Link created")
            url = page.locator(".link-url").first.input_value()
            assert f"{base}/r/" in url
            page.fill("input[name=label]", "Old link")
            page.click("button:has-text('Create a link')")
            page.locator(".link-list li", has_text="Old link").locator("button:has-text('Revoke')").click()
            expect(page.locator(".link-list li", has_text="Old link")).to_contain_text("revoked")
            expect(page.locator("button:has-text('Send the report')")).to_be_disabled()  # no SMTP here
            shot(page, "share-page")

            partner = browser.new_context()  # no account
            answer = partner.request.get(url)
            assert answer.status == 200 and answer.body() == report_pdf()
            assert answer.headers["referrer-policy"] == "no-referrer"
            gone = partner.new_page()
            gone.goto(f"{base}/r/{'x' * 43}")
            expect(gone.locator("h1")).to_have_text("This link does not open a report")
            shot(gone, "share-link-dead")

            with page.expect_download() as csv_download:
                page.click("a:has-text('Spreadsheets (CSV, zip)')")
            with zipfile.ZipFile(csv_download.value.path()) as archive:
                assert "items.csv" in archive.namelist()
            with page.expect_download() as json_download:
                page.click("a:has-text('Whole workshop (JSON)')")
            backup = json_download.value.path()
            assert json.loads(Path(backup).read_text())["workshop"]["code"] == code

            page.goto(f"{base}/workshops")
            page.click("a:has-text('Import a workshop')")
            bad = {"name": "bad.json", "mimeType": "application/json",
                   "buffer": b'{"format": "charrette-workshop"}'}
            page.set_input_files("input[name=file]", files=[bad])
            page.click("button:has-text('Import')")
            expect(page.locator(".error")).to_contain_text("no valid format version")
            shot(page, "import-refused")
            page.set_input_files("input[name=file]", backup)
            page.click("button:has-text('Import')")
            expect(page.locator(".flash-success")).to_contain_text("Workshop imported")
            new_code = page.locator(".eyebrow .code").inner_text()
            assert new_code != code

            phone = browser.new_context(**PHONE)
            phone_page = phone.new_page()
            phone_page.goto(f"{base}/{new_code}")
            expect(phone_page.locator("input[name=group]").first).to_be_attached()

            page.fill("input[name=confirm]", "WRONG1")
            page.click("button:has-text('Delete the workshop and its data')")
            expect(page.locator(".danger .error")).to_contain_text(f"Type the workshop code {new_code}")
            shot(page, "delete-refused")
            page.fill("input[name=confirm]", new_code)
            page.click("button:has-text('Delete the workshop and its data')")
            expect(page.locator(".flash-success")).to_contain_text("were deleted")
            shot(page, "workshops-after-delete")
            phone_page.goto(f"{base}/{new_code}")
            expect(phone_page.locator(".lead")).to_contain_text(f"No workshop has the code {new_code}")
        finally:
            browser.close()
