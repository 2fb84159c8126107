"""The KAP survey on a phone (390 x 844) in English and Mongolian, in Debian's Chromium on a real server:
consent, the first screen, one part of the questionnaire per screen, Back to change an answer, the
last screen with the helpline and "Next person", which leaves the phone clean for the next one; the
answers landing in the campaign's baseline; the console and the campaign's page filling in; axe-core
clean on every screen; the phone page's weight. Screenshots go to $CHARRETTE_SHOTS (default: a
temporary folder).
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from scripts import report_campaign as gen
from tests.support import PHONE, launch_browser, server_and_app, sign_in
from tests.test_browser_pretest import audit, shot
from tests.test_page_weight import BUDGET, phone_assets
from workshop.campaign_models import Campaign, SurveyResponse
from workshop.extensions import db
from workshop.flow import campaigns, phases
from workshop.models import Facilitator

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 15_000
WORDS = {"en": {"consent": "Before you start", "agree": "Yes, I agree to take part", "start": "Start",
                "k1": "Licensed recruitment agencies never ask you to pay a fee.", "true": "True",
                "next": "Save and continue", "thanks": "Thank you!", "again": "Next person"},
         "mn": {"consent": "Эхлэхийн өмнө", "agree": "Тийм, би оролцохыг зөвшөөрч байна", "start": "Эхлүүлэх",
                "k1": "Тусгай зөвшөөрөлтэй агентлаг хэзээ ч хураамж авдаггүй.", "true": "Үнэн",
                "next": "Хадгалаад үргэлжлүүлэх", "thanks": "Баярлалаа!", "again": "Дараагийн хүн"}}
# What each of the two people answers: a part per screen (about you, knowledge, attitudes, practices).
ANSWERS = {"en": [{"age_band": "18_24", "place": "rural", "gender": "woman"},
                  {"k1": "true", "k2": "false", "k3": "dont_know", "k4": "true"},
                  {"a1": "disagree", "a2": "strongly_agree", "a3": "agree"},
                  {"p1": "no", "p2": "often", "p3": "no"}],
           "mn": [{"age_band": "25_34", "gender": "man"},
                  {"k1": "false", "k3": "true"},
                  {"a2": "neutral"},
                  {"p1": "yes", "p2": "sometimes"}]}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A server; the demo facilitator's campaign with its questionnaire; a survey workshop on phones, open."""
    with server_and_app(tmp_path_factory.mktemp("kapsurvey-browser")) as (base, app, shots), \
            sync_playwright() as pw:
        owner = db.session.scalar(db.select(Facilitator))
        campaign = gen.build(owner, participants=3, images=False, surveys=0)
        w = campaigns.survey_workshop(campaign, owner, "baseline")
        w.helpline = "Тусламжийн утас 108 (үнэгүй) · Helpline 108 (free)"
        w.retention_days = 90
        db.session.commit()
        phases.set_phase(w, w.stages[0].id, "vote")
        browser = launch_browser(pw)
        expect.set_options(timeout=TIMEOUT_MS)
        yield {"base": base, "code": w.code, "w": w, "campaign_id": campaign.id, "browser": browser,
               "shots": shots, "app": app}
        browser.close()


def stored() -> list[dict]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(SurveyResponse.answers).order_by(SurveyResponse.id)))


@pytest.mark.parametrize("lang", ["en", "mn"])
def test_a_person_answers_the_survey_on_the_phone_and_the_next_person_starts_clean(world, lang):
    words = WORDS[lang]
    ctx = world["browser"].new_context(**PHONE, bypass_csp=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    page.goto(f"{world['base']}/lang/{lang}?next=/j/{world['code']}")
    expect(page.locator("h2.consent-title")).to_have_text(words["consent"])
    shot(world, page, f"kap-{lang}-1-consent")
    audit(page, "consent")
    page.click(f"button:has-text('{words['agree']}')")
    page.click("form button.primary")  # the join screen: nothing to ask (one group, no join questions)
    expect(page.locator("[data-conn]")).to_have_attribute("data-conn", re.compile("connected|saved"))
    first = page.locator("[data-step].on")
    expect(first.locator("h1")).to_be_visible()
    expect(first).to_contain_text("13")  # 13 questions, in 4 short parts
    shot(world, page, f"kap-{lang}-2-intro")
    audit(page, "intro")
    first.locator(f"button:has-text('{words['start']}')").click()
    before = len(stored())
    for n, part in enumerate(ANSWERS[lang], start=1):
        step = page.locator("[data-step].on")
        expect(step.locator(".eyebrow")).to_contain_text("4")
        if n == 2:
            expect(step.locator("legend").first).to_have_text(words["k1"])
            expect(step.locator("label.kap-option").first).to_contain_text(words["true"])
        for name, value in part.items():
            step.locator(f"label.kap-option:has(input[name=q_{name}][value='{value}'])").click()
        shot(world, page, f"kap-{lang}-3-part-{n}")
        if n in (1, 2):
            audit(page, f"part {n}")
        if n == 2:
            whole = world["shots"] / f"kap-{lang}-3-part-2-whole.png"
            page.locator("[data-step].on").screenshot(path=str(whole))
        step.locator(f"button:has-text('{words['next']}')").click()
    done = page.locator("[data-step].on")
    expect(done.locator("h2").first).to_have_text(words["thanks"])
    expect(done.locator(".helpline")).to_contain_text("108")
    shot(world, page, f"kap-{lang}-4-thanks")
    audit(page, "thanks")
    # Back to the practices, change one answer: the response follows.
    done.locator("[data-back]").click()
    step = page.locator("[data-step].on")
    expect(step.locator("input[name=q_p1]:checked")).to_have_count(1)  # what was given is drawn in
    step.locator("label.kap-option:has(input[name=q_p3][value='yes'])").click()
    step.locator(f"button:has-text('{words['next']}')").click()
    want = {k: v for part in ANSWERS[lang] for k, v in part.items()} | {"p3": "yes"}
    for _ in range(50):
        if len(stored()) == before + 1 and stored()[-1] == want:
            break
        page.wait_for_timeout(100)
    assert stored()[-1] == want and len(stored()) == before + 1
    # "Next person": nothing of this person is left on the phone; the next one starts at the consent.
    assert page.evaluate("localStorage.length + sessionStorage.length") > 0
    page.locator("[data-step].on a[data-quick-exit]").click()
    # The consent again, in the phone's own language (the last person's choice went with their cookies).
    expect(page.locator("h2.consent-title")).to_have_text(WORDS["en"]["consent"])
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert not [c for c in ctx.cookies() if c["name"] == "lang"]
    shot(world, page, f"kap-{lang}-5-next-person")
    page.click(f"button:has-text('{WORDS['en']['agree']}')")
    page.click("form button.primary")
    expect(page.locator("[data-step].on h1")).to_be_visible()  # the first screen, not the last one's place
    assert page.locator("input:checked").count() == 0
    ctx.close()


def test_the_console_and_the_campaigns_page_fill_in(world):
    with world["app"].test_client() as phone:  # one more person, without JavaScript (also when run alone)
        phone.post(f"/j/{world['code']}", data={"consent": "yes", "group": world["w"].groups[0]})
        phone.post(f"/j/{world['code']}/act", data={"event": "vote", "cid": "console-0001", "q_k1": "true",
                                                     "q_k2": "false", "q_k3": "true", "q_k4": "true"})
    ctx = world["browser"].new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    page = ctx.new_page()
    sign_in(page, world["base"])
    page.goto(f"{world['base']}/w/{world['code']}/console")
    expect(page.locator(".kap-survey-card")).to_contain_text("Baseline")
    expect(page.locator("[data-part=tally] table.kap-lines")).to_contain_text("Knowledge score")
    page.screenshot(path=str(world["shots"] / "kap-console.png"), full_page=True)
    audit(page, "console")
    page.goto(f"{world['base']}/campaigns/{world['campaign_id']}/results")
    expect(page.locator("main")).to_contain_text("Baseline")
    page.screenshot(path=str(world["shots"] / "kap-campaign-results.png"), full_page=False)
    page.goto(f"{world['base']}/campaigns/{world['campaign_id']}/questionnaire")
    expect(page.locator("#collect")).to_contain_text("KAP baseline on phones")
    page.locator("#collect").screenshot(path=str(world["shots"] / "kap-questionnaire-collect.png"))
    audit(page, "questionnaire")
    page.goto(f"{world['base']}/campaigns/{world['campaign_id']}/surveys")
    expect(page.locator("main")).to_contain_text("given on phones")
    page.screenshot(path=str(world["shots"] / "kap-surveys.png"), full_page=False)
    projector = ctx.new_page()
    projector.set_viewport_size({"width": 1920, "height": 1080})
    projector.goto(f"{world['base']}/w/{world['code']}/present")
    expect(projector.locator(".stage-body")).to_contain_text("people have answered")
    projector.screenshot(path=str(world["shots"] / "kap-projector.png"))
    ctx.close()
    with world["app"].app_context():
        campaign = db.session.get(Campaign, world["campaign_id"])
        assert campaign.survey("baseline").respondents >= 1


def test_the_survey_phone_page_stays_under_budget(world):
    with world["app"].test_client() as client:
        client.post(f"/j/{world['code']}", data={"consent": "yes", "group": world["w"].groups[0]})
        client.get("/lang/mn")
        sizes = phone_assets(client, world["code"])
    total = sum(sizes.values())
    print("\nKAP survey phone page (gzip):", sizes, "total", total)
    assert total <= BUDGET


def test_the_projector_shows_the_section_scores_once_revealed(world):
    with world["app"].app_context():
        w = db.session.get(type(world["w"]), world["w"].id)
        phases.set_phase(w, w.stages[0].id, "results")
        phases.reveal(w, w.stages[0].id, True)
    ctx = world["browser"].new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    page = ctx.new_page()
    sign_in(page, world["base"])
    page.goto(f"{world['base']}/w/{world['code']}/present")
    expect(page.locator("table.kap-lines")).to_contain_text("Knowledge score")
    page.screenshot(path=str(world["shots"] / "kap-projector-results.png"))
    audit(page, "projector")
    phone = ctx.browser.new_context(**PHONE, bypass_csp=True).new_page()
    phone.goto(f"{world['base']}/j/{world['code']}")
    phone.click(f"button:has-text('{WORDS['en']['agree']}')")
    phone.click("form button.primary")
    expect(phone.locator("#view")).to_contain_text("The survey is closed.")
    expect(phone.locator("#view .helpline")).to_contain_text("108")
    phone.screenshot(path=str(world["shots"] / "kap-en-6-closed.png"))
    audit(phone, "phone, closed")
    ctx.close()
