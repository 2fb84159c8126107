"""Phones without JavaScript, or behind a venue that blocks WebSocket, still take part.

A real server and Debian's Chromium: a phone with JavaScript disabled joins and
votes through plain form posts (every stage kind), and what it sends reaches the
facilitator's console and the projector through the normal live push. A phone
whose WebSocket is refused falls back to Socket.IO's long-polling.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.a11y import Walk
from tests.support import join_phone, launch_browser, running_server, sign_in

PHONE = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True}
pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """One server, one Chromium, the demo workshop; a signed-in console and a projector."""
    tmp = tmp_path_factory.mktemp("progressive")
    with running_server(tmp) as base, sync_playwright() as pw:
        browser = launch_browser(pw)
        walk = Walk(tmp)
        laptop = browser.new_context(viewport={"width": 1440, "height": 900})
        laptop.set_default_timeout(10_000)
        console = laptop.new_page()
        sign_in(console, base)
        console.goto(f"{base}/w/{walk.code}/console")
        projector = laptop.new_page()
        projector.goto(f"{base}/w/{walk.code}/present")
        try:
            yield {"base": base, "walk": walk, "browser": browser, "console": console, "projector": projector}
        finally:
            walk.close()
            browser.close()


def show(page, selector: str) -> None:
    """Reload a live page (after the test moved the stage behind its back) and wait for its view."""
    page.reload()
    expect(page.locator("[data-conn]").first).to_have_attribute("data-conn", re.compile("connected|saved"))
    expect(page.locator(selector).first).to_be_attached()


def go(room, kind: str, phase: str) -> None:
    """Move the workshop to a stage and phase, as the console would; reload the laptop's screens."""
    w, stage = room["walk"].fresh(), room["walk"].stage(kind)
    from workshop.flow import phases
    phases.goto_stage(w, stage.id)
    phases.set_phase(room["walk"].fresh(), stage.id, phase)
    show(room["console"], f".stage-controls .phase-{phase}")
    show(room["projector"], f".stage-body.at-{phase}")


def saved(phone) -> None:
    """Expect the page the form post led back to, saying the answer was stored."""
    expect(phone.locator(".flash-success")).to_have_text("Saved ✓")


def test_a_phone_without_javascript_joins_and_votes_in_every_stage(room):
    base, console, projector = room["base"], room["console"], room["projector"]
    context = room["browser"].new_context(**PHONE, java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        phone = context.new_page()
        # Join: code, then group, both plain forms; the error for a missing group is shown.
        phone.goto(base + "/")
        phone.fill("#code", room["walk"].code.lower())
        phone.click("button:has-text('Join')")
        phone.click("button:has-text('Join')")
        expect(phone.locator(".error")).to_have_text("Choose your stakeholder group.")
        phone.check("input[name=group][value='Youth']")
        phone.click("button:has-text('Join')")

        # Pick a trend, collecting: the server drew the form; the idea reaches the projector live.
        phone.fill("#idea-title", "Fake visa agents at bus stations")
        phone.click("button:has-text('Send idea')")
        saved(phone)
        expect(phone.locator(".my-ideas li")).to_have_text(["Fake visa agents at bus stations"])
        expect(projector.locator(".idea-card", has_text="Fake visa agents")).to_be_visible()

        # Dot voting: the Refresh link shows the next step; + posts a dot; the count is drawn by the server.
        go(room, "trend", "vote")
        phone.click("a:has-text('Refresh to see the next step')")
        card = phone.locator(".dot-card", has_text="Fake visa agents")
        card.locator("button.plus").click()
        saved(phone)
        card.locator("button.plus").click()
        expect(card.locator("output")).to_have_text("2")
        expect(phone.locator("[data-left]")).to_have_text("1")
        tally = console.locator(".bar-row", has_text="Fake visa agents").locator(".score")
        expect(tally).to_contain_text("2")
        expect(projector.locator(".vote-progress .big-number")).not_to_have_text("0")
        card.locator("button[data-dot='-1']").click()
        expect(card.locator("output")).to_have_text("1")
        expect(tally).to_contain_text("1")

        # Choose the audience: a rank is one tap, and the second tap on it takes it back.
        walk = room["walk"]
        go(room, "audience", "collect")
        phone.click("a:has-text('Refresh to see the next step')")
        phone.fill("#seg-title", "Young men seeking seasonal work")
        phone.click("button:has-text('Send audience')")
        saved(phone)
        go(room, "audience", "vote")
        phone.click("a:has-text('Refresh to see the next step')")
        first = phone.locator(".rank-card", has_text="Young men").locator("button[data-value='1']")
        first.click()
        saved(phone)
        expect(phone.locator(".rank-card", has_text="Young men").locator("button[data-value='1']")
               ).to_have_attribute("aria-pressed", "true")
        expect(console.locator(".progress-line strong")).to_have_text("1")

        # Review concepts: a rating is a radio button that posts; a comment is a form.
        go(room, "concepts", "vote")
        phone.click("a:has-text('Refresh to see the next step')")
        concept = phone.locator(".concept-phone").first
        concept.locator("fieldset.rating").first.locator("button[data-value='4']").click()
        saved(phone)
        concept = phone.locator(".concept-phone").first
        expect(concept.locator("fieldset.rating").first.locator("button[data-value='4']")
               ).to_have_attribute("aria-checked", "true")
        concept.locator("input[value=concern]").check()
        concept.locator("textarea").fill("Too much text for a bus stop")
        concept.locator("button:has-text('Send comment')").click()
        saved(phone)
        expect(phone.locator(".my-comments").first).to_contain_text("Too much text for a bus stop")
        expect(console.locator(".comments")).to_contain_text("Too much text for a bus stop")
        expect(console.locator("table.compare")).to_contain_text("1 rated")

        # Vote on drafts: a rejection needs a reason, said clearly; then it is stored.
        go(room, "drafts", "vote")
        phone.click("a:has-text('Refresh to see the next step')")
        draft = phone.locator(".concept-phone").first
        draft.locator("input[value=reject]").check()
        draft.locator("button:has-text('Save my vote')").click()
        expect(phone.locator(".flash-error")).to_contain_text("Say what must change")
        draft = phone.locator(".concept-phone").first
        draft.locator("input[value=reject]").check()
        draft.locator("textarea").fill("The helpline number is missing")
        draft.locator("button:has-text('Save my vote')").click()
        saved(phone)
        expect(phone.locator(".concept-phone").first.locator(".saved-line")).to_have_text("✓ Saved: Reject")
        expect(console.locator(".draft-results")).to_contain_text("The helpline number is missing")

        # Agreed strategy: fist-of-five.
        go(room, "strategy", "vote")
        phone.click("a:has-text('Refresh to see the next step')")
        phone.check("input[name=value][value='4']")
        phone.click("button:has-text('Send my support')")
        saved(phone)
        expect(phone.locator("input[name=value][value='4']")).to_be_checked()
        expect(console.locator(".progress-line strong")).to_have_text("1")
        expect(projector.locator(".vote-progress .big-number")).to_have_text("1")
        assert walk.code in phone.url
    finally:
        context.close()


# What a venue proxy that refuses WebSocket upgrades looks like to a page: every WebSocket
# fails at once (error, then close 1006). Playwright's route_web_socket cannot refuse one.
BLOCK_WEBSOCKET = """
window.__wsTried = 0;
window.WebSocket = class BlockedWebSocket extends EventTarget {
  constructor(url) {
    super(); this.url = url; this.readyState = 0; window.__wsTried += 1;
    setTimeout(() => {
      this.readyState = 3;
      const error = new Event("error"); this.onerror?.(error); this.dispatchEvent(error);
      const close = new CloseEvent("close", {code: 1006}); this.onclose?.(close); this.dispatchEvent(close);
    }, 50);
  }
  send() {}
  close() {}
};
Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
"""


def test_a_phone_whose_websocket_is_blocked_votes_over_long_polling(room):
    go(room, "trend", "vote")
    context = room["browser"].new_context(**PHONE)
    context.set_default_timeout(15_000)
    context.add_init_script(BLOCK_WEBSOCKET)
    polls = []
    context.on("request", lambda r: polls.append(r.url) if "transport=polling" in r.url else None)
    try:
        phone = join_phone(context, room["base"], room["walk"].code, "Government")
        assert phone.evaluate("window.__wsTried") >= 1, "the phone never tried WebSocket"
        assert polls, "the phone did not fall back to long-polling"
        before = int(room["console"].locator(".progress-line strong").inner_text())
        phone.locator(".dot-card").first.locator("button.plus").click()
        expect(phone.locator("[data-conn]")).to_have_attribute("data-conn", "saved")
        expect(room["console"].locator(".progress-line strong")).to_have_text(str(before + 1))
        expect(room["projector"].locator(".vote-progress .big-number")).to_have_text(str(before + 1))
    finally:
        context.close()
