"""Walk every stage and phase of the demo workshop and save the console (1366x768) and the projector
(1920x1080) and a phone (390x844) at each step, with a few phones voting, to look at them.

    python scripts/room_screenshots.py [OUT_DIR]      (default: /tmp/room-shots)

The console is driven only through its own buttons: "Next: ..." until the last stage is decided.
Starts its own server on a temporary SQLite file with the demo workshop.
"""
from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support import PHONE, join_phone, launch_browser, running_server, sign_in  # noqa: E402

CONSOLE, PROJECTOR = {"width": 1366, "height": 768}, {"width": 1920, "height": 1080}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def vote_a_little(phone) -> None:
    """Give whatever the phone's ballot takes: a dot, a rank, a rating, a verdict."""
    for selector in (".dot-card .plus", "[data-choice][role=radio]", "[data-choice]"):
        buttons = phone.locator(selector)
        if buttons.count():
            for n in range(min(3, buttons.count())):
                try:
                    buttons.nth(n * 3 % buttons.count()).click(timeout=1500)
                except Exception:  # noqa: BLE001 (a disabled button: enough given)
                    pass
            return


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp)) as base, sync_playwright() as pw:
        browser = launch_browser(pw)
        console = browser.new_context(viewport=CONSOLE).new_page()
        sign_in(console, base)
        console.click("a.button:has-text('Console')")
        code = console.inner_text(".big-code").strip()
        projector = browser.new_context(viewport=PROJECTOR).new_page()
        sign_in(projector, base)
        projector.goto(f"{base}/w/{code}/present")
        phones = [join_phone(browser.new_context(**PHONE), base, code, group)
                  for group in ("Youth", "Government")]
        n = 0
        seen = set()
        while n < 60:
            console.wait_for_timeout(400)
            phase = console.locator(".stage-controls h2 .phase").inner_text().strip()
            stage = console.inner_text(".stage-controls h2").replace(phase, "").strip()
            if (stage, phase) in seen:
                print("seen", stage, phase)
                break
            seen.add((stage, phase))
            if phase.lower().startswith("voting"):
                for phone in phones:
                    vote_a_little(phone)
            for revealed in (False, True):
                if revealed:
                    reveal = console.locator("button:has-text('Reveal results')")
                    if not reveal.count():
                        break
                    reveal.first.click()
                    console.wait_for_timeout(600)
                phase = console.locator(".stage-controls h2 .phase").inner_text().strip()
                name = f"{n:02d}-{slug(stage)}-{slug(phase)}" + ("-revealed" if revealed else "")
                console.evaluate("window.scrollTo(0, 0)")
                console.screenshot(path=out / f"console-{name}.png")
                projector.wait_for_timeout(300)
                projector.screenshot(path=out / f"projector-{name}.png")
                phones[0].wait_for_timeout(300)
                phones[0].screenshot(path=out / f"phone-{name}.png")
            n += 1
            forward = console.locator(".stepper .button.primary")
            if not forward.count():
                decision = console.locator("form.decision-form")
                if decision.count():
                    boxes = decision.locator("input[type=checkbox], input[type=radio]")
                    if boxes.count():
                        boxes.first.check()
                    for select in decision.locator("select").all():
                        select.select_option(index=1)
                    decision.locator("textarea[name=rationale]").fill("The room agreed.")
                    decision.locator("button.primary").click()
                    console.wait_for_timeout(500)
                    forward = console.locator(".stepper .button.primary")
            if not forward.count():  # nothing to decide on (no items): show the next stage
                forward = console.locator(".console-agenda li.current ~ li button:has-text('Show')")
            if not forward.count():
                print("no way forward at", stage, phase)
                break
            forward.first.click()
            console.wait_for_function("s => !document.querySelector('.stage-controls h2') || "
                                      "document.querySelector('.stage-controls h2').innerText !== s",
                                      arg=console.inner_text(".stage-controls h2"), timeout=5000)
        browser.close()
    print(f"{n} steps: screenshots in {out}/")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/room-shots"))
