"""The whole campaign template in Debian's Chromium: console, projector and three phones.

One facilitator runs the demo workshop from the first trend idea to an agreed
strategy; three phones (mobile viewports) take part. No page is reloaded: the
projector and phones carry a marker set at the start that a reload would erase.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support import PHONE, join_phone, launch_browser, running_server, show_card, sign_in

TIMEOUT_MS = 10_000
SHOTS = os.environ.get("CHARRETTE_SHOTS")  # a folder: save a screenshot at each step to look at


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=name.startswith(("phone", "console")))


def next_step(console, label: str) -> None:
    console.locator(".stepper button.primary", has_text=label).click()


def reveal(console) -> None:
    console.click("button:has-text('Reveal results')")
    expect(console.locator(".stepper")).to_contain_text("Hide results")


def record(console, rationale: str) -> None:
    form = console.locator("form.decision-form")
    form.locator("#rationale").fill(rationale)
    form.locator("button.primary").click()
    expect(console.locator(".stage-controls h2 .phase")).to_have_text("Decided")


@pytest.mark.browser
@pytest.mark.slow
def test_full_campaign_from_first_idea_to_agreed_strategy(tmp_path):
    with running_server(tmp_path) as base, sync_playwright() as pw:
        browser = launch_browser(pw)
        expect.set_options(timeout=TIMEOUT_MS)
        laptop = browser.new_context(viewport={"width": 1440, "height": 900})
        console = laptop.new_page()
        sign_in(console, base)
        console.locator(".workshop-card").first.locator("a.button:has-text('Console')").click()
        console.wait_for_url("**/console")
        code = console.inner_text(".big-code").strip()
        projector = laptop.new_page()
        projector.set_viewport_size({"width": 1920, "height": 1080})
        projector.goto(f"{base}/w/{code}/present")
        phones = [join_phone(browser.new_context(**PHONE), base, code, group)
                  for group in ("Youth", "Government", "Civil society")]
        for page in (projector, *phones):
            page.evaluate("window.__noReload = true")

        # 1. Pick a trend: an idea from a phone, dots, reveal, decision.
        phones[0].fill("#idea-title", "Debt bondage through recruitment fees")
        phones[0].click("button:has-text('Send idea')")
        expect(projector.locator(".idea-card", has_text="Debt bondage")).to_be_visible()
        next_step(console, "Voting")
        for phone in phones:
            phone.locator(".dot-card", has_text="Debt bondage").locator("button.plus").click()
        expect(console.locator(".progress-line strong")).to_have_text("3")
        reveal(console)
        top_trend = projector.locator(".bar-row.top .bar-label")
        expect(top_trend).to_have_text("Debt bondage through recruitment fees")
        console.locator("form.decision-form label", has_text="Debt bondage").locator("input").check()
        record(console, "Three groups put their dots here.")
        expect(projector.locator(".decision-title")).to_contain_text("Debt bondage")

        # 2. Choose the audience: two segments with a profile, ranked, primary chosen.
        next_step(console, "Choose the audience")
        expect(projector.locator(".prompt")).to_contain_text("Who must change")
        for phone, who, age in ((phones[0], "Young women seeking work online", "18-25"),
                                (phones[1], "Parents in border villages", "40-60")):
            phone.fill("#seg-title", who)
            phone.fill("#seg-age", age)
            phone.click("button:has-text('Send audience')")
        expect(projector.locator(".idea-card")).to_have_count(2)
        next_step(console, "Voting")
        for phone in phones:
            phone.locator(".rank-card", has_text="Young women").locator("button[data-value='1']").click()
            phone.locator(".rank-card", has_text="Parents").locator("button[data-value='2']").click()
        expect(phones[2].locator(".rank-card", has_text="Young women").locator("button[data-value='1']")
               ).to_have_attribute("aria-pressed", "true")
        shot(phones[1], "phone-audience-rank")
        expect(console.locator(".progress-line strong")).to_have_text("3")
        reveal(console)
        expect(projector.locator(".bar-row.top")).to_contain_text("Young women seeking work online")
        expect(projector.locator(".bar-row.top .dist")).to_contain_text("1st: 3")
        shot(projector, "projector-audience-results")
        console.locator("#primary").select_option(label="Young women seeking work online")
        record(console, "First choice of every group.")
        expect(projector.locator(".decision")).to_contain_text("Primary audience")

        # 3. Review concepts: images on phones, ratings, a comment, one concept shown to the room.
        next_step(console, "Review concepts")  # concepts were prepared: rating opens at once
        first = phones[0].locator(".concept-phone").first
        expect(first.locator("img")).to_be_visible()
        # A 390 px wide phone at 2x picks the 800 px copy: sharp, and not the 1600 px one.
        src = first.locator("img").evaluate("i => i.decode().then(() => i.currentSrc)")
        assert re.search(r"/media/[\w-]+-800\.png$", src), src
        for phone, score in zip(phones, ("5", "4", "4"), strict=True):  # each phone lists them in its order
            card = show_card(phone, phone.locator(".concept-phone", has_text="Ask three questions"))
            for rating in card.locator("fieldset.rating").all():
                rating.locator(f"button[data-value='{score}']").click()
        asked = show_card(phones[1], phones[1].locator(".concept-phone", has_text="Ask three questions"))
        asked.locator("textarea").fill("Show a local bus station")
        asked.locator("input[value=change]").check()
        asked.locator("button:has-text('Send comment')").click()
        expect(console.locator(".comments")).to_contain_text("Show a local bus station")
        shot(phones[1], "phone-concepts-rate")
        shot(console, "console-concepts")
        shot(projector, "projector-concepts-grid")
        console.locator(".console-ideas li", has_text="Your passport").locator(
            "button:has-text('Show to the room')").click()
        expect(phones[2].locator(".concept-phone")).to_have_count(1)
        expect(phones[2].locator(".concept-phone h2")).to_have_text("Your passport stays with you")
        expect(projector.locator(".concept-focus h2")).to_have_text("Your passport stays with you")
        shot(projector, "projector-concepts-focus")
        # A typo in a prepared concept is corrected from the console, live on every screen.
        row = console.locator(".console-ideas li", has_text="Your passport")
        row.locator(".edit-item summary").click()
        row.locator(".edit-form input[name=message]").fill("No real employer ever keeps your passport.")
        row.locator(".edit-form button:has-text('Save')").click()
        for screen in (projector, phones[2]):
            expect(screen.locator(".concept-focus, .concept-phone").first).to_contain_text("ever keeps")
        expect(row.locator(".edit-form input[name=message]")).to_have_value(
            "No real employer ever keeps your passport.")
        reveal(console)
        expect(projector.locator("table.compare tbody tr.top th")).to_contain_text("Ask three questions")
        expect(projector.locator("table.compare")).to_contain_text("3 rated")
        shot(projector, "projector-concepts-results")
        console.locator("form.decision-form label", has_text="Ask three questions").locator("input").check()
        record(console, "Highest on every criterion.")

        # 4. Vote on drafts: a rejection without a reason is refused on the phone.
        next_step(console, "Vote on drafts")
        card = phones[2].locator(".concept-phone").first
        card.locator("input[value=reject]").check()
        card.locator("button:has-text('Save my vote')").click()
        expect(phones[2].locator("[data-toast]")).to_contain_text("Say what must change")
        card.locator("textarea").fill("Too long for a bus stop")
        card.locator("button:has-text('Save my vote')").click()
        expect(card.locator(".saved-line")).to_contain_text("Reject")
        for phone in phones[:2]:
            for draft in phone.locator(".concept-phone").all():
                show_card(phone, draft)
                draft.locator("input[value=changes]").check()
                draft.locator("textarea").fill("Add the helpline number")
                draft.locator("button:has-text('Save my vote')").click()
                expect(draft.locator(".saved-line")).to_contain_text("Approve with changes")
        reveal(console)
        expect(projector.locator(".draft-results")).to_contain_text("Approve with changes: 2")
        shot(projector, "projector-drafts-results")
        shot(phones[1], "phone-drafts-vote")
        form = console.locator("form.decision-form")
        for select in form.locator("select[name=verdicts]").all():
            select.select_option(index=2)  # approved with the listed changes
        record(console, "Both approved once the helpline number is added.")

        # 5. Agreed strategy: pre-filled, completed live, fist-of-five, concerns flagged, agreed.
        next_step(console, "Agreed strategy")  # opens in drafting
        strategy = projector.locator(".strategy")
        expect(strategy).to_contain_text("Debt bondage through recruitment fees")
        expect(strategy).to_contain_text("Young women seeking work online")
        expect(strategy).to_contain_text("Before any job abroad, ask")
        console.fill("#st-call_to_action", "Call the free helpline before you sign")
        console.locator("input[name=step_what]").first.fill("Brief the agency")
        console.locator("input[name=step_who]").first.fill("Ministry of Labour")
        console.click("button:has-text('Update the strategy')")
        expect(strategy).to_contain_text("Call the free helpline before you sign")
        expect(projector.locator("table.steps")).to_contain_text("Ministry of Labour")
        expect(phones[0].locator(".strategy")).to_contain_text("Call the free helpline")
        shot(projector, "projector-strategy-draft")
        shot(console, "console-strategy")
        next_step(console, "Voting")
        for phone, value in zip(phones, ("5", "4", "1"), strict=True):
            phone.locator(f".fist-choice input[value='{value}']").check()
            if value == "1":
                phone.fill("#fist-note", "No budget for the radio spot")
            phone.click("button:has-text('Send my support')")
            expect(phone.locator(".saved-line")).to_contain_text(value)
        reveal(console)
        expect(projector.locator(".concerns")).to_contain_text("1 person has serious concerns")
        expect(projector.locator(".concerns")).to_contain_text("No budget for the radio spot")
        shot(projector, "projector-strategy-consensus")
        shot(phones[1], "phone-strategy-vote")
        console.locator("form.decision-form label", has_text="agreed").locator("input").check()
        console.fill("#minority", "Civil society doubts the radio budget.")
        record(console, "Agreed, with the radio budget to be found.")
        expect(projector.locator(".decision")).to_contain_text("The strategy is agreed")
        shot(projector, "projector-strategy-agreed")
        expect(phones[1].locator(".decision")).to_contain_text("The strategy is agreed")
        for page in (projector, *phones):
            assert page.evaluate("window.__noReload === true"), "a page was reloaded"
        expect(projector.locator(".agenda-step.decided")).to_have_count(5)
        browser.close()
