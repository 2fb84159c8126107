"""The projector at 1920x1080 stays legible whatever a stage holds: no text of the stage area below
about 24 px (computed font size times any zoom), busy slides paged rather than shrunk, nothing that
looks pressable, and the big join screen (J) fits. Walked with a maximal strategy and many items."""
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support import launch_browser, server_and_app, sign_in
from workshop.extensions import db
from workshop.flow import phases, workshops
from workshop.models import Facilitator, Item

pytestmark = [pytest.mark.browser]
PROJECTOR = {"width": 1920, "height": 1080}
MIN_PX = 23.5  # "about 24 px": what the back of a room reads

# Every visible text element of the stage area: its font size as drawn (zoom included).
SIZES = """() => {
  const body = document.querySelector('#view .stage-body');
  const out = [];
  for (const el of body.querySelectorAll('*')) {
    if (!Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || el.closest('[hidden]')) continue;
    let zoom = 1;
    for (let e = el; e; e = e.parentElement) zoom *= parseFloat(getComputedStyle(e).zoom || 1);
    out.push([el.tagName + '.' + el.className, parseFloat(getComputedStyle(el).fontSize) * zoom,
              el.textContent.trim().slice(0, 30)]);
  }
  return out;
}"""
OVERFLOW = """() => {
  const view = document.querySelector('#view'), body = view.querySelector('.stage-body');
  return body.getBoundingClientRect().bottom - view.getBoundingClientRect().bottom;
}"""


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    with server_and_app(tmp_path_factory.mktemp("projector")) as (base, _app, shots), sync_playwright() as pw:
        owner = db.session.scalar(db.select(Facilitator))
        w = workshops.create_workshop(owner, title="Legible projector", topic="Safe migration")
        browser = launch_browser(pw)
        laptop = browser.new_context(viewport=PROJECTOR)
        page = laptop.new_page()
        sign_in(page, base)
        page.goto(f"{base}/w/{w.code}/present")
        yield {"w": w, "page": page, "shots": shots}
        browser.close()


def _show(room, stage, phase, ready=".stage-body"):
    w = room["w"]
    phases.goto_stage(w, stage.id)
    phases.set_phase(w, stage.id, phase)
    page = room["page"]
    page.reload()  # set up in the database directly: no push, so the page asks again
    expect(page.locator(".stage-body .prompt")).to_have_text(stage.prompt, timeout=15_000)
    page.wait_for_selector(ready)
    page.wait_for_timeout(600)  # the pusher's interval, then fit()
    return page


def _legible(page, name, shots):
    page.screenshot(path=str(shots / f"projector-{name}.png"))
    small = [s for s in page.evaluate(SIZES) if s[1] < MIN_PX]
    assert not small, f"{name}: text below {MIN_PX}px: {small[:5]}"
    assert page.evaluate(OVERFLOW) <= 2, f"{name}: the stage runs off the screen"


def test_a_maximal_strategy_and_a_long_idea_list_stay_legible(room):
    w = room["w"]
    trend = w.stages[0]
    phases.set_phase(w, trend.id, "collect")
    db.session.add_all(Item(stage_id=trend.id, title=f"Idea {n}: " + "recruiters promise work abroad " * 3,
                            data={}) for n in range(40))
    db.session.commit()
    page = _show(room, trend, "vote", ".idea-list")
    _legible(page, "trend-vote-40-ideas", room["shots"])
    expect(page.locator(".page-count")).to_contain_text("1 / ")  # paged, not shrunk
    strategy = next(s for s in w.stages if s.kind == "strategy")
    long = "Every community radio station in the three provinces carries the message weekly. " * 12
    strategy.settings = {**(strategy.settings or {}), "key_message": "K" * 12 + " " + "word " * 37,
                         "call_to_action": long[:300], "channels": long[:1000], "allies": long[:1000],
                         "indicators": long[:1000],
                         "step_what": [f"Step {n} " + "x" * 180 for n in range(12)],
                         "step_who": ["Ministry of Labour and Social Protection"] * 12,
                         "step_when": ["By the end of the third quarter"] * 12}
    db.session.commit()
    for phase in ("draft", "vote", "results"):
        page = _show(room, strategy, phase)
        _legible(page, f"strategy-{phase}-maximal", room["shots"])


def test_nothing_on_the_projector_looks_pressable_and_the_join_screen_fits(room):
    w = room["w"]
    concepts = next(s for s in w.stages if s.kind == "concepts")
    detail = "A poster at bus stations. " * 8
    db.session.add_all(Item(stage_id=concepts.id, title=f"Concept {n}", detail=detail, data={})
                       for n in range(4))
    db.session.commit()
    page = _show(room, concepts, "vote")
    _legible(page, "concepts-vote", room["shots"])
    for summary in page.locator("#view summary").all():
        assert summary.evaluate("s => getComputedStyle(s).cursor") != "pointer"
        assert summary.evaluate("s => getComputedStyle(s).pointerEvents") == "none"
    page.keyboard.press("j")
    page.wait_for_timeout(300)
    fits = page.evaluate("""() => Array.from(document.querySelectorAll('.join-panel > *:not([hidden])'))
        .every(el => el.getBoundingClientRect().bottom <= window.innerHeight + 1)""")
    page.screenshot(path=str(room["shots"] / "projector-join-big.png"))
    page.keyboard.press("j")
    assert fits, "the big join screen runs off the screen"
