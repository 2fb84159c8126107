"""The pre-test on a phone (390 x 844) in English and Mongolian, in Debian's Chromium on a real server:
consent, segment questions, one material per screen with faces, the last screen with the helpline,
the console filling in (self-paced), axe-core clean, the quick exit leaving nothing behind, and the
phone page's weight. Screenshots of every screen go to $CHARRETTE_SHOTS (default: a temporary folder).
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from tests.a11y import axe, blocking, describe
from tests.support import PHONE, launch_browser, server_and_app, sign_in
from tests.test_page_weight import BUDGET, phone_assets
from workshop.extensions import db
from workshop.flow import items as item_rules
from workshop.flow import phases, workshops
from workshop.models import Facilitator, Vote

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 15_000
WORDS = {"en": ("Before you start", "Yes, I agree to take part", "Does it catch your eye?", "Thank you!",
                "Quick exit"),
         "mn": ("Эхлэхийн өмнө", "Тийм, би оролцохыг зөвшөөрч байна", "Энэ таны анхаарлыг татаж байна уу?",
                "Баярлалаа!", "Шуурхай гарах")}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A server, a self-paced pre-test workshop of the demo facilitator with two posters, Chromium."""
    with server_and_app(tmp_path_factory.mktemp("pretest-browser")) as (base, app, shots), \
            sync_playwright() as pw:
        owner = db.session.scalar(db.select(Facilitator))
        w = workshops.create_workshop(owner, title="Poster pre-test", topic="Safe migration",
                                      template="pretest", language="mn")
        w.helpline, w.self_paced, w.retention_days = "Тусламжийн утас 108 (үнэгүй)", True, 30
        w.segment_questions = {"age": ["15-17", "18-24", "25-34"], "gender": True}
        db.session.commit()
        stage = w.stages[0]
        from tests.actions import add_item
        add_item(w, None, {"stage_id": stage.id, "title": "Poster A: check the job",
                           "detail": "Before you go, check the job and the agency. Hotline 108.",
                           "warning": "Mentions exploitation"})
        add_item(w, None, {"stage_id": stage.id, "title": "Poster B: ask three questions",
                           "detail": "Who pays? Who keeps your passport? Who can you call?"})
        phases.set_phase(w, stage.id, "vote")
        browser = launch_browser(pw)
        expect.set_options(timeout=TIMEOUT_MS)
        yield {"base": base, "code": w.code, "w": w, "stage": stage, "browser": browser, "shots": shots,
               "app": app}
        browser.close()


def shot(world, page, name):
    page.screenshot(path=str(world["shots"] / f"{name}.png"), full_page=False)


def audit(page, label):
    bad = blocking(axe(page))
    assert bad == [], f"{label}:\n{describe(bad)}"


@pytest.mark.parametrize("lang", ["en", "mn"])
def test_a_participant_walks_the_pretest_on_the_phone(world, lang):
    consent, agree, question, thanks, leave = WORDS[lang]
    ctx = world["browser"].new_context(**PHONE, bypass_csp=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    page.goto(f"{world['base']}/lang/{lang}?next=/j/{world['code']}")
    expect(page.locator("h2.consent-title")).to_have_text(consent)
    expect(page.locator(".quick-exit")).to_contain_text(leave)
    shot(world, page, f"{lang}-1-consent")
    audit(page, "consent")
    page.click(f"button:has-text('{agree}')")
    page.check("input[name=age][value='18-24']")
    page.check("input[name=gender][value='woman']")
    shot(world, page, f"{lang}-2-segments")
    audit(page, "segments")
    page.click("form button.primary")
    expect(page.locator("[data-conn]")).to_have_attribute("data-conn", re.compile("connected|saved"))
    expect(page.locator("[data-step].on h1")).to_be_visible()
    shot(world, page, f"{lang}-3-intro")
    audit(page, "intro")
    page.click("[data-step].on [data-next]")
    expect(page.locator("[data-step].on .content-warning")).to_be_visible()  # the warning before the poster
    shot(world, page, f"{lang}-4-warning")
    page.click("[data-step].on button.primary[data-next]")
    step = page.locator("[data-step].on")
    expect(step.locator("legend").first).to_have_text(question)
    shot(world, page, f"{lang}-5-material-a")
    audit(page, "material")
    for n, name in enumerate(("attraction", "comprehension", "acceptability", "involvement", "persuasion")):
        step.locator(f"label.pt-option:has(input[name={name}][value='{5 - n % 2}'])").click()
    step.locator("textarea[name=said]").fill("Ажлын санал шалгах хэрэгтэй, call 9911 2233" if lang == "mn"
                                              else "Check the job offer first, mail me a@b.org")
    page.locator("[data-step].on").screenshot(path=str(world["shots"] / f"{lang}-6-material-a-answered.png"))
    step.locator("button.primary").click()
    step = page.locator("[data-step].on")
    expect(step).to_have_attribute("data-card", re.compile(r"\d+"))
    expect(step.locator("h2")).to_contain_text("Poster B")
    shot(world, page, f"{lang}-7-material-b")
    step.locator("label.pt-option:has(input[name=comprehension][value='4'])").click()
    step.locator("button.primary").click()
    expect(page.locator("[data-step].on h2").first).to_have_text(thanks)
    expect(page.locator("[data-step].on .helpline")).to_contain_text("108")
    shot(world, page, f"{lang}-8-thanks")
    audit(page, "thanks")
    # the answers arrived, masked
    page.wait_for_timeout(500)
    with world["app"].app_context():
        db.session.expire_all()
        notes = [v.note for v in db.session.scalars(db.select(Vote).where(Vote.criterion == "said"))]
    assert notes and not any("9911" in n or "a@b.org" in n for n in notes)
    # The quick exit: nothing left behind on this phone.
    assert page.evaluate("localStorage.length") > 0
    page.click(".quick-exit")
    page.wait_for_url("**/x")
    assert page.title() == "New Tab"
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert not [c for c in ctx.cookies() if c["name"] == "session"]
    try:  # the page before was a form's answer: the browser asks before posting it again (no copy kept)
        page.go_back()
    except PlaywrightError as error:
        assert "ERR_CACHE_MISS" in str(error)
    page.wait_for_timeout(300)
    assert "Poster A" not in page.content() and "Ажлын" not in page.content()
    ctx.close()


def test_the_console_fills_in_as_answers_come_and_shows_the_date(world):
    ctx = world["browser"].new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    page = ctx.new_page()
    sign_in(page, world["base"])
    page.goto(f"{world['base']}/w/{world['code']}/console")
    expect(page.locator(".safeguarding-line")).to_be_visible()
    expect(page.locator("[data-part=tally] table.compare")).to_be_visible()
    expect(page.locator(".pt-answers li").first).to_be_visible()
    page.locator(".pt-code button").first.click()
    expect(page.locator(".pt-code button[aria-pressed=true]").first).to_be_visible()
    page.screenshot(path=str(world["shots"] / "console.png"), full_page=True)
    ctx.close()


def test_the_pretest_phone_page_stays_under_budget(world):
    with world["app"].test_client() as client:
        client.post(f"/j/{world['code']}", data={"consent": "yes", "group": world["w"].groups[0]})
        sizes = phone_assets(client, world["code"])
    total = sum(sizes.values())
    print("\npre-test phone page (gzip):", sizes, "total", total)
    assert total <= BUDGET
    assert item_rules is not None
