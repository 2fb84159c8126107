"""The phone in every language, at normal and 200% text size, in Debian's Chromium.

One server (the demo workshop) and one Chromium. Each phone starts from its browser
language (Playwright's `locale` sets Accept-Language), joins, and is checked at the
code page, the join page, and the live Trend stage while collecting and while voting:
the page is in its language and nothing overflows the screen or its box. Screenshots
of every step go to $CHARRETTE_SHOTS (default: a temporary folder).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support import PHONE, launch_browser, running_server, sign_in

LANGS = {"en": "en-GB", "nb": "nb-NO", "sv": "sv-SE", "mn": "mn-MN"}
WORDS = {"en": "Join a workshop", "nb": "Bli med i et verksted", "sv": "Gå med i en workshop",
         "mn": "Семинарт нэгдэх"}
STEP = {"en": "Step 1 of 5", "nb": "Steg 1 av 5", "sv": "Steg 1 av 5", "mn": "Алхам 1/5"}
DOTS = {"en": "dots left", "nb": "prikker igjen", "sv": "prickar kvar", "mn": "цэг үлдсэн"}
TIMEOUT_MS = 15_000

# Elements whose text must stay inside their box and the screen (what a thumb reads or taps).
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const bad = [];
  const root = document.documentElement;
  if (root.scrollWidth > width + 1) bad.push(`page ${root.scrollWidth}px wide`);
  const sel = "button, a, label, legend, summary, h1, h2, h3, p, .eyebrow, .conn, input, select, textarea, "
    + ".choice span";
  for (const el of document.querySelectorAll(sel)) {
    const box = el.getBoundingClientRect();
    if (!box.width || getComputedStyle(el).visibility === "hidden" || el.closest(".sr-only")) continue;
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "auto")
      bad.push(`${el.tagName} overflows its box: ${el.textContent.trim().slice(0, 40)}`);
    if (box.right > width + 1 || box.left < -1)
      bad.push(`${el.tagName} off screen: ${el.textContent.trim().slice(0, 40)}`);
  }
  return bad;
}"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A server with the demo workshop, Chromium, and the facilitator's console."""
    tmp = tmp_path_factory.mktemp("i18n-browser")
    shots = Path(os.environ.get("CHARRETTE_SHOTS") or tmp / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    with running_server(tmp) as base, sync_playwright() as pw:
        browser = launch_browser(pw)
        expect.set_options(timeout=TIMEOUT_MS)
        laptop = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
        laptop.set_default_timeout(TIMEOUT_MS)
        console = laptop.new_page()
        sign_in(console, base)
        console.click("a.button:has-text('Console')")
        code = console.inner_text(".big-code").strip()
        try:
            yield {"base": base, "browser": browser, "console": console, "code": code, "shots": shots,
                   "db": tmp / "charrette.db", "tmp": tmp}
        finally:
            browser.close()


def phone(world, lang: str, scale: int):
    """Open a phone whose browser speaks `lang`, at `scale` x text size."""
    context = world["browser"].new_context(**PHONE, locale=LANGS[lang])
    context.set_default_timeout(TIMEOUT_MS)
    if scale != 1:  # the phone's text-size setting: every rem and em grows, px boxes do not
        context.add_init_script("document.addEventListener('DOMContentLoaded', () => "
                                f"{{ document.documentElement.style.fontSize = '{scale * 100}%'; }})")
    return context.new_page()


def join(page, world, code: str) -> None:
    """Enter a code on a phone, pick the first group, and wait until the live page is connected."""
    page.goto(world["base"] + "/")
    page.fill("#code", code)
    page.click("form.code-form button")
    page.locator("input[name=group]").first.check()
    page.click("main form button.primary")
    expect(page.locator("[data-conn]")).to_have_attribute("data-conn", re.compile("connected|saved"))


def check(page, world, lang: str, name: str) -> list[str]:
    """Save a screenshot, assert the page is in `lang`; return what overflows (nothing, we hope)."""
    page.screenshot(path=world["shots"] / f"{name}.png", full_page=True)
    assert page.get_attribute("html", "lang") == lang
    expect(page.locator(".lang-picker [aria-current=true]")).to_have_attribute("lang", lang)
    return [f"{name}: {problem}" for problem in page.evaluate(OVERFLOW_JS)]


def test_phone_in_every_language_and_at_200_percent(world):
    pages, overflows = {}, []
    for lang in LANGS:
        for scale in (1, 2):
            name = f"{lang}-{scale * 100}"
            page = phone(world, lang, scale)
            page.goto(world["base"] + "/")
            expect(page.locator("h1")).to_have_text(WORDS[lang])
            overflows += check(page, world, lang, f"{name}-1-code")
            page.fill("#code", world["code"])
            page.click("form.code-form button")
            page.locator("input[name=group]").first.check()
            overflows += check(page, world, lang, f"{name}-2-join")
            page.click("main form button.primary")
            expect(page.locator("[data-conn]")).to_have_attribute("data-conn", re.compile("connected|saved"))
            expect(page.locator("#view .eyebrow")).to_contain_text(STEP[lang])
            overflows += check(page, world, lang, f"{name}-3-ideas")
            pages[name] = (lang, page)

    world["console"].click("button[data-event='stage:go'].primary")  # Next: Voting
    for name, (lang, page) in pages.items():
        expect(page.locator("[data-dots-left]")).to_contain_text(DOTS[lang])
        page.locator("[data-dot]").first.wait_for()
        overflows += check(page, world, lang, f"{name}-4-vote")
    world["console"].click("button[data-event='stage:go']:has-text('←')")  # back to collecting ideas
    assert not overflows, "\n".join(overflows)


def test_picking_a_language_on_the_phone_page_keeps_it_live(world):
    page = phone(world, "nb", 1)
    page.goto(world["base"] + "/")
    page.fill("#code", world["code"])
    page.click("form.code-form button")
    page.locator("input[name=group]").first.check()
    page.click("main form button.primary")
    expect(page.locator("[data-conn]")).to_have_text("Tilkoblet")
    page.click(".lang-picker a[lang=mn]")
    expect(page.locator("html")).to_have_attribute("lang", "mn")
    expect(page.locator("[data-conn]")).to_have_text("Холбогдсон")
    expect(page.locator("#view .eyebrow")).to_contain_text("Алхам 1/5")
    page.reload()  # remembered: a cookie, not the browser's Norwegian
    expect(page.locator("#view .eyebrow")).to_contain_text("Алхам 1/5")
    assert check(page, world, "mn", "picked-mn") == []


SEGMENTS = [("Ажил хайж буй 18–25 насны хөдөөгийн эмэгтэйчүүд", "18–25", "Хөвсгөл, Завхан аймаг",
             "Facebook, найз нөхөд"),
            ("Хилийн чанад дахь ажлын зар тавьдаг зуучлагчид", "25–45", "Улаанбаатар", "Telegram")]


def seed_every_kind(world):
    """Create a Mongolian workshop with audiences, concepts and drafts, in the server's database."""
    from config import TestingConfig
    from tests.actions import add_item
    from workshop import create_app
    from workshop.auth import find_facilitator
    from workshop.flow import phases, workshops
    app = create_app(TestingConfig(DATABASE_URL=f"sqlite:///{world['db']}", UPLOAD_DIR=str(world["tmp"])))
    with app.app_context():
        workshop = workshops.create_workshop(
            find_facilitator("demo@example.org"), title="Аюулгүй хөдөлмөрийн шилжилт хөдөлгөөн",
            topic="Хүний наймаа", groups=["Засгийн газар", "Иргэний нийгэм", "Залуучууд"], language="mn")
        stages = {stage.kind: stage for stage in workshop.stages}
        phases.goto_stage(workshop, stages["audience"].id)
        phases.set_phase(workshop, stages["audience"].id, "collect")
        for title, age, place, channels in SEGMENTS:
            add_item(workshop, None, {"title": title, "age": age, "place": place, "channels": channels})
        for n in (1, 2):
            add_item(workshop, None, {
                "stage_id": stages["concepts"].id, "title": f"Концепц {n}: Итгэлтэй алхам",
                "message": "Гэрээгээ гарын үсэг зурахаас өмнө шалгаарай"})
            add_item(workshop, None, {
                "stage_id": stages["drafts"].id, "title": f"Ноорог {n}: богино видео", "channel": "TikTok",
                "detail": "Зуучлагч залуу эмэгтэйд ажлын санал тавина…"})
        plan = [(stages[kind].id, phase) for kind, phase in
                [("audience", "vote"), ("concepts", "vote"), ("drafts", "vote"), ("strategy", "vote")]]
    return workshop.code, app, plan


def test_every_stage_kind_on_the_phone_in_every_language_and_at_200_percent(world):
    from workshop.flow import phases
    from workshop.models import Workshop
    code, app, plan = seed_every_kind(world)
    pages, overflows = {}, []
    for lang in LANGS:
        for scale in (1, 2):
            page = phone(world, lang, scale)
            join(page, world, code)
            pages[f"{lang}-{scale * 100}"] = (lang, page)
    projector = world["console"].context.new_page()  # the facilitator's laptop, English browser
    projector.set_viewport_size({"width": 1920, "height": 1080})
    for stage_id, phase in plan:
        with app.app_context():
            workshop = Workshop.query.filter_by(code=code).one()
            phases.goto_stage(workshop, stage_id)
            phases.set_phase(workshop, stage_id, phase)
            kind = workshop.current_stage.kind
        for name, (lang, page) in pages.items():
            page.reload()  # this process is not the server: the phones fetch the new view themselves
            expect(page.locator(f"#view [data-stage='{stage_id}']")).to_be_attached()
            overflows += check(page, world, lang, f"kinds-{name}-{kind}")
        projector.goto(f"{world['base']}/w/{code}/present")  # in the workshop's language
        expect(projector.locator(".stage-body .phase")).to_have_text("Санал хураалт")
        assert projector.get_attribute("html", "lang") == "mn"
        projector.screenshot(path=world["shots"] / f"kinds-projector-{kind}.png")
    assert not overflows, "\n".join(overflows)
