"""Walk the Trend stage in real Chromium and save screenshots of every screen.

    python scripts/screenshots.py [OUT_DIR]      (default: screenshots/)

Starts its own server on a temporary SQLite file with the demo workshop.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support import PHONE, join_phone, launch_browser, running_server, sign_in  # noqa: E402


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp)) as base, sync_playwright() as pw:
        browser = launch_browser(pw)
        laptop = browser.new_context(viewport={"width": 1440, "height": 900})
        console = laptop.new_page()
        sign_in(console, base)
        console.screenshot(path=out / "workshops.png", full_page=True)
        console.click("a.button:has-text('Console')")
        code = console.inner_text(".big-code").strip()
        projector = laptop.new_page()
        projector.set_viewport_size({"width": 1920, "height": 1080})
        projector.goto(f"{base}/w/{code}/present")
        projector.wait_for_selector(".idea-card")

        phone_ctx = [browser.new_context(**PHONE) for _ in range(2)]
        entry = phone_ctx[0].new_page()
        entry.goto(base + "/")
        entry.screenshot(path=out / "phone-enter-code.png")
        entry.fill("#code", code)
        entry.click("button:has-text('Join')")
        entry.screenshot(path=out / "phone-join.png", full_page=True)
        entry.close()
        phones = [join_phone(phone_ctx[0], base, code, "Youth"),
                  join_phone(phone_ctx[1], base, code, "Government")]
        phones[0].fill("#idea-title", "Students share job adverts from unknown agencies in class chats")
        phones[0].click("button:has-text('Send idea')")
        phones[0].wait_for_selector("[data-my-ideas] li")
        phones[0].screenshot(path=out / "phone-collect.png", full_page=True)
        console.click("form[data-event='timer:start'] button")  # 5 min timer
        projector.wait_for_selector("[data-timer]:not([hidden])")
        projector.wait_for_function("document.querySelectorAll('.idea-card').length >= 6")
        projector.screenshot(path=out / "projector-collect.png")
        console.wait_for_timeout(300)
        console.screenshot(path=out / "console-collect.png", full_page=True)

        console.click("button:has-text('Next: Voting')")
        for phone in phones:
            phone.wait_for_selector(".dot-card")
        phones[0].click(".dot-card >> nth=0 >> .plus")
        phones[0].click(".dot-card >> nth=0 >> .plus")
        phones[0].click(".dot-card >> nth=2 >> .plus")
        phones[1].click(".dot-card >> nth=0 >> .plus")
        phones[1].click(".dot-card >> nth=3 >> .plus")
        phones[0].wait_for_selector("[data-conn=saved]")
        phones[0].screenshot(path=out / "phone-vote.png")
        projector.wait_for_function("document.querySelector('.big-number').textContent.trim() === '2'")
        projector.screenshot(path=out / "projector-vote.png")

        console.click("button:has-text('Reveal results')")
        projector.wait_for_selector(".bars")
        projector.screenshot(path=out / "projector-results.png")
        phones[1].wait_for_selector(".bars")
        phones[1].screenshot(path=out / "phone-results.png", full_page=True)
        console.wait_for_selector(".decision-form")
        console.check(".decision-form input[name=item_ids] >> nth=0")
        console.fill("#rationale", "Most groups put it first, and partners can reach the audience online.")
        console.fill("#minority", "Police asked to look at debt bondage first.")
        console.click("button:has-text('Record decision')")
        projector.wait_for_selector(".decision")
        projector.screenshot(path=out / "projector-decided.png")
        console.screenshot(path=out / "console-decided.png", full_page=True)
        browser.close()
    print(f"screenshots in {out}/")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots"))
