"""axe-core audits of every screen in every stage and phase, in Debian's Chromium on a real server.

A phone (360 x 640), the projector (1920 x 1080) and the console (1440 x 900) are
loaded in each state of each stage kind; axe-core (pinned in package.json) must
find no serious or critical violation. Every violation found, of any impact, is
printed, so `pytest -s` shows the full audit.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.a11y import Walk, axe, blocking, describe
from tests.support import join_phone, launch_browser, running_server, sign_in

SMALL_PHONE = {"viewport": {"width": 360, "height": 640}, "device_scale_factor": 2,
               "is_mobile": True, "has_touch": True}
LAPTOP = {"viewport": {"width": 1440, "height": 900}}
PROJECTOR = {"width": 1920, "height": 1080}
KINDS = ("trend", "audience", "concepts", "drafts", "strategy")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """One server, one Chromium, the demo workshop with a joined phone, a projector and a console."""
    tmp = tmp_path_factory.mktemp("a11y")
    with running_server(tmp) as base, sync_playwright() as pw:
        browser = launch_browser(pw)
        walk = Walk(tmp)
        try:
            # axe is injected as a script tag, which the app's CSP (script-src 'self') would block.
            phone_ctx = browser.new_context(**SMALL_PHONE, bypass_csp=True)
            laptop = browser.new_context(**LAPTOP, bypass_csp=True)
            for ctx in (phone_ctx, laptop):
                ctx.set_default_timeout(10_000)
            phone = join_phone(phone_ctx, base, walk.code, "Youth")
            console = laptop.new_page()
            sign_in(console, base)
            console.goto(f"{base}/w/{walk.code}/console")
            projector = laptop.new_page()
            projector.set_viewport_size(PROJECTOR)
            projector.goto(f"{base}/w/{walk.code}/present")
            yield {"base": base, "walk": walk, "phone": phone, "console": console, "projector": projector,
                   "browser": browser}
        finally:
            walk.close()
            browser.close()


def settled(page, selector: str) -> None:
    """Reload a live page and wait until its socket has drawn the view matching `selector`."""
    page.reload()
    expect(page.locator("[data-conn]").first).to_have_attribute("data-conn", re.compile("connected|saved"))
    expect(page.locator(selector).first).to_be_attached()
    page.wait_for_timeout(150)  # let a second, coalesced view land before auditing


def audit(page, label: str, found: dict) -> None:
    """Run axe on a page and file its violations under `label`."""
    violations = axe(page)
    found[label] = violations
    if violations:
        print(f"\n{label}:\n{describe(violations)}")


@pytest.mark.parametrize("kind", KINDS)
def test_every_phase_of_a_stage_passes_axe_on_phone_projector_and_console(room, kind):
    found: dict[str, list] = {}
    for state in room["walk"].states(kind):
        phase = "results" if state == "results-hidden" else state
        settled(room["phone"], f"#view [data-phase='{phase}']")
        audit(room["phone"], f"phone {kind} {state}", found)
        settled(room["projector"], f".stage-body.at-{phase}")
        audit(room["projector"], f"projector {kind} {state}", found)
        settled(room["console"], f".stage-controls .phase-{phase}")
        audit(room["console"], f"console {kind} {state}", found)
    assert len(found) >= 9, found.keys()  # pending, vote, results (hidden, shown), decided: 3 screens each
    bad = {label: blocking(v) for label, v in found.items() if blocking(v)}
    assert not bad, "\n".join(f"{label}:\n{describe(v)}" for label, v in bad.items())


def test_code_and_join_pages_pass_axe_also_with_errors(room):
    found: dict[str, list] = {}
    context = room["browser"].new_context(**SMALL_PHONE, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(room["base"] + "/")
        audit(page, "enter code", found)
        page.fill("#code", "ZZZZZZ")
        page.click("button:has-text('Join')")
        expect(page.locator(".error")).to_be_visible()
        audit(page, "enter code, wrong code", found)
        page.fill("#code", room["walk"].code)
        page.click("button:has-text('Join')")
        expect(page.locator("legend")).to_contain_text("Which group")
        audit(page, "join", found)
        page.click("button:has-text('Join')")  # no group chosen
        expect(page.locator(".error")).to_contain_text("Choose your stakeholder group")
        audit(page, "join, no group", found)
    finally:
        context.close()
    bad = {label: blocking(v) for label, v in found.items() if blocking(v)}
    assert not bad, "\n".join(f"{label}:\n{describe(v)}" for label, v in bad.items())


FOCUSED = """() => {
    const el = document.activeElement;
    const cs = getComputedStyle(el);
    return {tag: el.tagName, id: el.id, text: (el.innerText || el.value || '').trim().slice(0, 50),
            inView: !!el.closest('#view'),
            visible: (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2)
                     || cs.boxShadow !== 'none'};
}"""


def tab_until(page, wanted, limit: int = 200) -> list[dict]:
    """Press Tab until `wanted(focused)` holds; return every stop on the way (fail after `limit`)."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
        if wanted(stops[-1]):
            return stops
    raise AssertionError(f"never reached the wanted control; stops: {[s['text'] or s['tag'] for s in stops]}")


def test_console_is_usable_from_the_keyboard_alone(room):
    walk, console = room["walk"], room["console"]
    from workshop.flow import phases
    trend = walk.stage("trend")
    phases.goto_stage(walk.fresh(), trend.id)
    phases.set_phase(walk.fresh(), trend.id, "collect")
    settled(console, ".stage-controls .phase-collect")
    console.locator("body").focus()

    # Tab reaches "Add an idea yourself"; typing and Enter adds the idea (no mouse anywhere).
    stops = tab_until(console, lambda f: f["id"] == "add-title")
    console.keyboard.type("Typed with the keyboard only")
    console.keyboard.press("Enter")
    expect(console.locator(".console-ideas strong", has_text="Typed with the keyboard only")).to_have_count(1)

    # Tab on to "Next: Voting", press Enter: the phase changes and the focus stays on the stepper.
    stops += tab_until(console, lambda f: f["text"].startswith("Next:"), limit=400)
    console.keyboard.press("Enter")
    expect(console.locator(".stage-controls .phase-vote")).to_be_attached()
    console.wait_for_timeout(300)
    after = console.evaluate(FOCUSED)
    assert after["inView"] and after["text"].startswith("Next:"), after

    # Every stop shows where the focus is; the page has no trap: the Tab order comes back round.
    # (BODY is where Tab goes between the last control and the first: the browser's own UI.)
    hidden = [s for s in stops if not s["visible"] and s["tag"] != "BODY"]
    assert not hidden, f"focus not visible on: {hidden}"
    ring = []
    for _ in range(600):
        console.keyboard.press("Tab")
        here = console.evaluate(FOCUSED)
        if ring and here == ring[0]:
            break
        ring.append(here)
    else:
        raise AssertionError("Tab never came back to the first control: a keyboard trap")
    assert len(ring) > 20


def test_projector_high_contrast_theme_meets_aaa_and_is_remembered(room):
    projector = room["projector"]
    settled(projector, ".stage-body")
    normal = axe(projector, ["color-contrast-enhanced"])
    projector.keyboard.press("h")
    expect(projector.locator("body")).to_have_class(re.compile(r"\bhc\b"))
    high = axe(projector, ["color-contrast-enhanced"])
    print(f"\nprojector AAA contrast: {len(normal)} rules failing normally, {len(high)} in high contrast")
    assert not high, describe(high)
    projector.reload()
    expect(projector.locator("body")).to_have_class(re.compile(r"\bhc\b"))
    projector.keyboard.press("H")
    expect(projector.locator("body")).not_to_have_class(re.compile(r"\bhc\b"))


# What a phone's "text size" setting does: the default font size, hence every rem and em, doubles.
TEXT_200 = "html { font-size: 200% !important; }"
# Measured against the screen's width, not innerWidth: a mobile browser widens its layout
# viewport to fit content that overflows, which would hide the very overflow looked for.
OVERFLOW = "(width) => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - width"


def test_phone_screens_fit_360px_at_200_percent_text_and_in_landscape(room, tmp_path):
    walk, phone = room["walk"], room["phone"]
    out = Path(os.environ.get("CHARRETTE_SHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    from workshop.flow import phases
    overflow = {}
    for kind, phase in (("trend", "collect"), ("trend", "vote"), ("audience", "vote"), ("concepts", "vote"),
                        ("drafts", "vote"), ("strategy", "vote"), ("trend", "results")):
        stage = walk.stage(kind)
        phases.goto_stage(walk.fresh(), stage.id)
        phases.set_phase(walk.fresh(), stage.id, phase)
        if phase == "results":
            phases.reveal(walk.fresh(), stage.id, True)
        for orientation, size in (("portrait", {"width": 360, "height": 640}),
                                  ("landscape", {"width": 640, "height": 360})):
            phone.set_viewport_size(size)
            settled(phone, f"#view [data-phase='{phase}']")
            phone.screenshot(path=out / f"phone-{kind}-{phase}-{orientation}.png")
            overflow[f"{kind} {phase} {orientation}"] = phone.evaluate(OVERFLOW, size["width"])
            phone.add_style_tag(content=TEXT_200)
            phone.screenshot(path=out / f"phone-{kind}-{phase}-{orientation}-text200.png", full_page=True)
            overflow[f"{kind} {phase} {orientation} text 200%"] = phone.evaluate(OVERFLOW, size["width"])
    phone.set_viewport_size({"width": 360, "height": 640})
    context = room["browser"].new_context(**SMALL_PHONE, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(room["base"] + "/")
        page.add_style_tag(content=TEXT_200)
        page.screenshot(path=out / "phone-code-text200.png", full_page=True)
        overflow["code page text 200%"] = page.evaluate(OVERFLOW, 360)
        page.fill("#code", walk.code)
        page.click("button:has-text('Join')")
        expect(page.locator("legend")).to_contain_text("Which group")  # the join page has loaded
        page.add_style_tag(content=TEXT_200)
        page.screenshot(path=out / "phone-join-text200.png", full_page=True)
        overflow["join page text 200%"] = page.evaluate(OVERFLOW, 360)
    finally:
        context.close()
    print(f"\nscreenshots in {out}")
    assert not {k: v for k, v in overflow.items() if v > 0}, overflow


def test_a_phone_votes_by_role_and_name_as_a_screen_reader_user_would(room):
    """Find every control the way TalkBack or VoiceOver names it; hear the result in the status line."""
    walk, phone = room["walk"], room["phone"]
    from workshop.flow import phases
    status = phone.get_by_role("status").filter(has_text=re.compile("Live|Saved|Sending|Offline|Waiting"))

    def show(kind):
        stage = walk.stage(kind)
        phases.goto_stage(walk.fresh(), stage.id)
        if kind == "audience" and not stage.items:  # when this test runs on its own
            phases.set_phase(walk.fresh(), stage.id, "collect")
            walk.contribute(kind)
        phases.set_phase(walk.fresh(), stage.id, "vote")
        settled(phone, "#view [data-phase='vote']")

    show("trend")
    title = walk.stage("trend").items[1].title
    group = phone.get_by_role("group", name=title)
    before = int(group.locator("output").inner_text())
    group.get_by_role("button", name=f"Add a dot: {title}").click()
    expect(status).to_have_text("Saved ✓")
    expect(group.locator("output")).to_have_text(str(before + 1))
    expect(phone.get_by_role("status").filter(has_text="dots left")).to_be_visible()

    show("audience")
    first = walk.stage("audience").items[0].title
    rank = phone.get_by_role("group", name=f"Rank for: {first}").get_by_role("button", name="2nd")
    rank.click()
    expect(rank).to_have_attribute("aria-pressed", "true")
    expect(status).to_have_text("Saved ✓")

    show("concepts")
    clear = phone.get_by_role("radiogroup", name="Clear").first
    four = clear.get_by_role("radio", name="4", exact=True)
    four.click()
    expect(four).to_be_checked()
    expect(clear.get_by_role("radio", name="5 – excellent")).not_to_be_checked()
    four.press("ArrowRight")  # arrow keys move within the group, as in any radio group
    expect(clear.get_by_role("radio", name="5 – excellent")).to_be_focused()
    expect(status).to_have_text("Saved ✓")

    show("drafts")
    draft = walk.stage("drafts").items[0].title
    verdicts = phone.get_by_role("group", name=re.compile(rf"^Your verdict\s*: {re.escape(draft)}$"))
    verdicts.get_by_role("radio", name="Approve with changes").check()
    phone.get_by_role("textbox", name="Reason / change needed").first.fill("Add the helpline")
    phone.get_by_role("button", name="Save my vote").first.click()
    expect(phone.get_by_role("status").filter(has_text="Saved: Approve with changes").first).to_be_visible()

    show("strategy")
    phone.get_by_role("radio", name=re.compile(r"^4 ")).check()
    phone.get_by_role("button", name="Send my support").click()
    expect(phone.get_by_role("status").filter(has_text=re.compile(r"Saved: 4"))).to_be_visible()
