"""In front of the room, in Debian's Chromium: the moves of a facilitator and the phones that must
come out right whatever is clicked, in whatever order (issue 16, the phones' part).

Drafts kept across redraws (the strategy's next steps edited again and again; a phone's unsent
comment or verdict staying with its own concept or draft), the timer (stop, +1 minute, reset, a
stage change), re-opened votes showing each phone its own dots, and the phone's concepts one per
screen. Workshops are made directly in the server's database, then driven through the screens.
"""
from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect, sync_playwright

from tests import support
from tests.support import PHONE, join_phone, launch_browser, running_server, sign_in

LAPTOP = {"viewport": {"width": 1440, "height": 900}}
PROJECTOR = {"width": 1920, "height": 1080}
TIMEOUT_MS = 10_000

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """One server, one Chromium and an app context on the server's database."""
    from config import TestingConfig
    from workshop import create_app
    from workshop.extensions import db

    tmp = tmp_path_factory.mktemp("room")
    with running_server(tmp) as base, sync_playwright() as pw:
        browser = launch_browser(pw)
        expect.set_options(timeout=TIMEOUT_MS)
        app = create_app(TestingConfig(DATABASE_URL=f"sqlite:///{tmp / 'charrette.db'}"))
        ctx = app.app_context()
        ctx.push()
        try:
            yield SimpleNamespace(base=base, browser=browser, db=db, log=tmp / "server.log")
        finally:
            db.session.remove()
            ctx.pop()
            browser.close()


@pytest.fixture
def new_context(room):
    made = []

    def make(**options):
        context = room.browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def make_workshop(room, title, template="campaign", **kwargs):
    """A workshop of the demo facilitator, made in the server's database."""
    from sqlalchemy import select

    from tests.conftest import gen_workshop
    from workshop.models import Facilitator
    demo = room.db.session.scalar(select(Facilitator).filter_by(email="demo@example.org"))
    w = gen_workshop(demo, title=title, template=template, **kwargs)
    # These tests follow cards by position; the shuffled ballots have their own (tests/test_ballot_order.py).
    w.shuffle_ballots = False
    room.db.session.commit()
    return w


def add_prepared(w, stage, *titles, **fields):
    from tests.actions import add_item
    return [add_item(w, None, {"stage_id": stage.id, "title": t, **fields}) for t in titles]


def console_of(new_context, room, code):
    laptop = new_context(**LAPTOP)
    console = laptop.new_page()
    sign_in(console, room.base)
    console.goto(f"{room.base}/w/{code}/console")
    live(console)
    return laptop, console


def live(page):
    expect(page.locator("[data-conn]").first).to_have_attribute("data-conn", re.compile("connected|saved"))
    expect(page.locator("#view > *").first).to_be_attached()


def projector_of(laptop, room, code):
    projector = laptop.new_page()
    projector.set_viewport_size(PROJECTOR)
    projector.goto(f"{room.base}/w/{code}/present")
    live(projector)
    return projector


def stage_button(console, title):
    """The agenda's "Show" button of a stage."""
    return console.locator(".console-agenda li", has_text=title).locator("button[data-event='stage:go']")


def redraw(console):
    """A facilitator action that redraws every screen (the private notes change nothing for the room,
    starting the timer does)."""
    console.click("form[data-event='timer:start'] button")


# --- 1. the agreed strategy's next steps ------------------------------------------------

def test_strategy_next_steps_survive_repeated_updates_and_redraws(room, new_context):
    from tests.conftest import goto
    w = make_workshop(room, "Strategy edits")
    goto(w, "strategy", "draft")
    laptop, console = console_of(new_context, room, w.code)
    projector = projector_of(laptop, room, w.code)
    form = console.locator("form.strategy-form")
    rows = form.locator(".step-row")
    steps = [("Brief the partners", "NGO coalition", "March"), ("Print posters", "Ministry", "April"),
             ("Radio call-in", "Youth council", "May")]

    def fill(n, step):
        for field, value in zip(("step_what", "step_who", "step_when"), step, strict=True):
            rows.nth(n).locator(f"input[name={field}]").fill(value)

    def expect_steps(expected):
        for page in (console, projector):
            table = page.locator(".strategy table.steps tbody tr")
            expect(table).to_have_count(len(expected))
            for n, step in enumerate(expected):
                expect(table.nth(n).locator("td")).to_have_text(list(step))
        for n, step in enumerate(expected):
            for field, value in zip(("step_what", "step_who", "step_when"), step, strict=True):
                expect(rows.nth(n).locator(f"input[name={field}]")).to_have_value(value)

    for n, step in enumerate(steps):
        fill(n, step)
    # A redraw while typing (another console action, a phone joining) keeps each row's own text.
    redraw(console)
    expect(projector.locator("[data-timer]")).to_be_visible()
    for n, step in enumerate(steps):
        expect(rows.nth(n).locator("input[name=step_what]")).to_have_value(step[0])
    form.locator("button:has-text('Update the strategy')").click()
    expect_steps(steps)

    # Update again after changing another field: still the same three steps, nothing doubled.
    form.locator("#st-channels").fill("Radio, WhatsApp groups")
    form.locator("button:has-text('Update the strategy')").click()
    expect(projector.locator(".strategy")).to_contain_text("Radio, WhatsApp groups")
    expect_steps(steps)

    # A third time: one step changed, a fourth added, typed across a redraw.
    steps[1] = ("Print posters and leaflets", "Ministry", "April")
    fill(1, steps[1])
    fill(3, ("Evaluate", "M&E officer", "December"))
    redraw(console)
    form.locator("button:has-text('Update the strategy')").click()
    expect_steps([*steps, ("Evaluate", "M&E officer", "December")])
    console.reload()
    live(console)
    expect_steps([*steps, ("Evaluate", "M&E officer", "December")])


# --- 2. the timer --------------------------------------------------------------------------

def test_timer_stops_adds_a_minute_resets_and_ends_with_its_stage(room, new_context):
    from tests.conftest import goto
    from workshop.models import Workshop, utcnow
    w = make_workshop(room, "Timer")
    goto(w, "trend", "collect")
    laptop, console = console_of(new_context, room, w.code)
    projector = projector_of(laptop, room, w.code)
    phone = join_phone(new_context(**PHONE), room.base, w.code, "Youth")
    p_timer, f_timer = projector.locator(".join-panel [data-timer]"), phone.locator("[data-timer]")

    def left(page_timer):
        m, s = page_timer.inner_text().split(":")
        return int(m) * 60 + int(s)

    console.locator("#timer-min").select_option("60")
    console.click("form[data-event='timer:start'] button")
    expect(p_timer).to_have_text(re.compile(r"^(1:00|0:[1-5]\d)$"))
    expect(f_timer).to_be_visible()
    console.click(".timer-actions button:has-text('+1 min')")
    expect(p_timer).to_have_text(re.compile(r"^(2:00|1:[1-5]\d)$"))
    expect(f_timer).to_have_text(re.compile(r"^(2:00|1:[1-5]\d)$"))
    console.click(".timer-actions button:has-text('+1 min')")
    expect(p_timer).to_have_text(re.compile(r"^(3:00|2:[1-5]\d)$"))
    console.click(".timer-actions button:has-text('Reset')")
    expect(p_timer).to_have_text(re.compile(r"^(1:00|0:[1-5]\d)$"))
    assert left(f_timer) <= 60
    console.click(".timer-actions button:has-text('Stop')")
    for t in (p_timer, f_timer):
        expect(t).to_be_hidden()
    projector.wait_for_timeout(1200)  # stopped means stopped: it does not come back on the next tick
    expect(p_timer).to_be_hidden()
    expect(console.locator(".timer-actions")).to_have_count(0)

    # Time runs out: "Time is up" in red until the facilitator stops it.
    console.click("form[data-event='timer:start'] button")
    expect(p_timer).to_be_visible()
    room.db.session.expire_all()
    room.db.session.get(Workshop, w.id).timer_ends_at = utcnow() + timedelta(seconds=1)
    room.db.session.commit()
    for page in (projector, phone):
        page.reload()
        live(page)
    for t in (p_timer, f_timer):
        expect(t).to_have_text("Time is up")
        expect(t).to_have_class(re.compile(r"\bdone\b"))
    console.click(".timer-actions button:has-text('Stop')")
    for t in (p_timer, f_timer):
        expect(t).to_be_hidden()

    # A running timer ends with its stage: the next stage starts without one; going back too.
    console.click("form[data-event='timer:start'] button")
    expect(f_timer).to_be_visible()
    stage_button(console, "Choose the audience").click()
    expect(console.locator(".stage-controls h2")).to_contain_text("Choose the audience")
    for t in (p_timer, f_timer):
        expect(t).to_be_hidden()
    console.click("form[data-event='timer:start'] button")
    expect(p_timer).to_be_visible()
    stage_button(console, "Pick a trend").click()
    expect(console.locator(".stage-controls h2")).to_contain_text("Pick a trend")
    for t in (p_timer, f_timer):
        expect(t).to_be_hidden()


# --- 3. a phone's unsent comment and verdict stay with their own concept or draft -------------

def show_card(phone, n):
    """Bring the n-th card (0-based) of the phone's ballot into view."""
    return support.show_card(phone, phone.locator("[data-card]").nth(n))


def test_unsent_comments_and_verdicts_stay_with_their_own_item(room, new_context):
    from tests.conftest import goto
    w = make_workshop(room, "Comment drafts")
    concepts = goto(w, "concepts", "vote")
    c_items = add_prepared(w, concepts, "Ask first", "Three questions", "Know your rights",
                           message="Check before you go")
    drafts = next(s for s in w.stages if s.kind == "drafts")
    d_items = add_prepared(w, drafts, "Radio script", "Poster", "Post copy")
    laptop, console = console_of(new_context, room, w.code)
    phone = join_phone(new_context(**PHONE), room.base, w.code, "Youth")
    expect(phone.locator("[data-card]")).to_have_count(3)

    def box(item):
        return phone.locator(f"#comment-{item.id}")

    third = show_card(phone, 2)
    third.locator("input[name=tag][value=change]").check()
    box(c_items[2]).fill("Half a comment on the third")
    console.locator("form[data-event='stage:settings'] button:has-text('Apply')").click()  # a redraw
    expect(console.locator(".toast")).to_be_hidden()
    phone.wait_for_timeout(500)
    show_card(phone, 2)
    expect(box(c_items[2])).to_have_value("Half a comment on the third")
    expect(third.locator("input[name=tag][value=change]")).to_be_checked()
    show_card(phone, 0)
    expect(box(c_items[0])).to_have_value("")
    # Two drafts at once, across another redraw.
    box(c_items[0]).fill("On the first")
    redraw(console)
    expect(phone.locator("[data-timer]")).to_be_visible()
    expect(box(c_items[0])).to_have_value("On the first")
    show_card(phone, 2)
    expect(box(c_items[2])).to_have_value("Half a comment on the third")

    # Sent on the third: that box empties, the first keeps its draft, the comment is listed under the third.
    third.locator("button:has-text('Send comment')").click()
    expect(box(c_items[2])).to_have_value("")
    expect(third.locator("[data-my-comments] li")).to_have_count(1)
    expect(console.locator(".comments")).to_contain_text("Half a comment on the third")
    show_card(phone, 0)
    expect(box(c_items[0])).to_have_value("On the first")
    second = show_card(phone, 1)
    second.locator("input[name=tag][value=keep]").check()
    box(c_items[1]).fill("On the second")
    second.locator("button:has-text('Send comment')").click()
    expect(box(c_items[1])).to_have_value("")
    expect(second.locator("[data-my-comments] li")).to_have_count(1)
    show_card(phone, 0)
    expect(box(c_items[0])).to_have_value("On the first")

    # The drafts stage: a half-written reason for the second draft stays with it.
    stage_button(console, "Vote on drafts").click()
    console.locator("button:has-text('Next: Voting')").click()
    expect(phone.locator("[data-card]")).to_have_count(3)
    card = show_card(phone, 1)
    card.locator("input[name=value][value=changes]").check()
    phone.locator(f"#note-{d_items[1].id}").fill("Shorter, please")
    redraw(console)
    expect(phone.locator("[data-timer]")).to_be_visible()
    card = show_card(phone, 1)
    expect(phone.locator(f"#note-{d_items[1].id}")).to_have_value("Shorter, please")
    expect(card.locator("input[name=value][value=changes]")).to_be_checked()
    show_card(phone, 0)
    expect(phone.locator(f"#note-{d_items[0].id}")).to_have_value("")
    expect(phone.locator("[data-card]").nth(0).locator("input[name=value]:checked")).to_have_count(0)


# --- 4. re-opened votes: every phone its own dots ---------------------------------------------

def test_phones_keep_their_own_dots_through_any_stage_and_phase_moves(room, new_context):
    from tests.conftest import gen_ideas
    w = make_workshop(room, "Re-opened vote")
    gen_ideas(w, "Fake agencies", "Debt bondage", "Visa overstays")
    from workshop.flow import phases
    phases.set_phase(w, w.current_stage.id, "vote")
    laptop, console = console_of(new_context, room, w.code)
    a = join_phone(new_context(**PHONE), room.base, w.code, "Youth")
    b = join_phone(new_context(**PHONE), room.base, w.code, "Government")
    expect(a.locator(".dot-card")).to_have_count(3)
    for phone, taps in ((a, (0, 0, 2)), (b, (1,))):
        for n in taps:
            phone.locator(".dot-card").nth(n).locator("button.plus").click()
        expect(phone.locator("[data-conn]").first).to_have_attribute("data-conn", "saved")
    counts = {a: ["2", "0", "1"], b: ["0", "1", "0"]}
    left = {a: "0 of 3 dots left", b: "2 of 3 dots left"}

    def expect_own():
        for phone in (a, b):
            expect(phone.locator(".dot-card .dot-count")).to_have_text(counts[phone])
            expect(phone.locator(".dots-left")).to_have_text(left[phone])

    def step(label):
        console.locator(".stepper button", has_text=label).click()

    console.click("button:has-text('Reveal results')")
    expect(a.locator(".bars .bar-row")).to_have_count(3)
    # Next stage, back to the trend at Results, back to Voting.
    stage_button(console, "Choose the audience").click()
    expect(a.locator(".dot-card")).to_have_count(0)
    stage_button(console, "Pick a trend").click()
    expect(console.locator(".stage-controls h2")).to_contain_text("Pick a trend")
    step("Back: Voting")
    expect_own()
    # + works from what the phone really has left.
    b.locator(".dot-card").nth(2).locator("button.plus").click()
    counts[b], left[b] = ["0", "1", "1"], "1 of 3 dots left"
    expect(b.locator("[data-conn]").first).to_have_attribute("data-conn", "saved")
    expect_own()
    # Another order: the next stage's voting, back and forth, a reload of one phone between.
    stage_button(console, "Choose the audience").click()
    step("Next: Collecting ideas")
    stage_button(console, "Pick a trend").click()
    a.reload()
    live(a)
    expect_own()
    console.click("button:has-text('Reveal results')")
    step("Back: Voting")
    expect_own()
    a.locator(".dot-card").nth(0).locator("button[data-dot='-1']").click()
    counts[a], left[a] = ["1", "0", "1"], "1 of 3 dots left"
    expect(a.locator("[data-conn]").first).to_have_attribute("data-conn", "saved")
    expect_own()
    expect(console.locator(".bars .bar-row .score")).to_have_text(["2", "1", "1"])


# --- the phone: one concept or draft per screen, long text, the comment's tag, verdicts saved ----

def test_phone_browses_one_item_per_screen_counts_long_text_and_saves_verdicts(room, new_context):
    from tests.conftest import goto
    w = make_workshop(room, "Phone screens")
    concepts = goto(w, "concepts", "vote")
    c_items = add_prepared(w, concepts, "Ask first", "Three questions", "Know your rights",
                           "Call the hotline",
                           message="Check before you go")
    drafts = next(s for s in w.stages if s.kind == "drafts")
    add_prepared(w, drafts, "Radio script", "Poster")
    laptop, console = console_of(new_context, room, w.code)
    ctx = new_context(**PHONE)
    phone = join_phone(ctx, room.base, w.code, "Youth")
    cards = phone.locator("[data-card]")
    expect(cards).to_have_count(4)
    # One concept per screen, with where it is and how many are done.
    expect(cards.nth(0)).to_be_visible()
    for n in (1, 2, 3):
        expect(cards.nth(n)).to_be_hidden()
    count = phone.locator(".pager-count")
    expect(count).to_have_text("1 of 4 · 0 of 4 done")
    expect(phone.locator("button[data-pager=prev]")).to_be_disabled()
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert height < 2400, height  # was about 4,800 px with every concept on one page
    cards.nth(0).locator("button[data-criterion=clear][data-value='4']").click()
    expect(count).to_have_text("1 of 4 · 1 of 4 done")
    phone.locator("button[data-pager=next]").click()
    expect(cards.nth(1)).to_be_visible()
    expect(cards.nth(0)).to_be_hidden()
    expect(count).to_have_text("2 of 4 · 1 of 4 done")
    # A redraw keeps the phone on its concept.
    redraw(console)
    expect(phone.locator("[data-timer]")).to_be_visible()
    expect(cards.nth(1)).to_be_visible()
    phone.locator("button[data-pager=prev]").click()
    expect(cards.nth(0).locator("button[data-criterion=clear][data-value='4']")).to_have_attribute(
        "aria-checked", "true")

    # A pasted 3,000-character comment is kept whole, counted, and not sent until it fits.
    second = show_card(phone, 1)
    box = phone.locator(f"#comment-{c_items[1].id}")
    box.fill("y" * 3000)
    expect(box).to_have_value("y" * 3000)
    counter = second.locator(".char-count")
    expect(counter).to_contain_text("Too long")
    expect(counter).to_contain_text("3,000")
    expect(box).to_have_attribute("aria-invalid", "true")
    second.locator("input[name=tag][value=change]").check()
    second.locator("button:has-text('Send comment')").click()
    expect(phone.locator(".toast")).to_contain_text("Too long")
    expect(box).to_have_value("y" * 3000)
    box.fill("Shorter now")
    expect(counter).to_have_text("11 of 1,000 characters")
    # No silent tag: a comment without keep / change / concern is refused with a clear message.
    second.locator("input[name=tag][value=change]").evaluate("r => { r.checked = false; }")
    second.locator("button:has-text('Send comment')").click()
    expect(phone.locator(".toast")).to_contain_text("Pick keep, change or concern")
    expect(box).to_have_value("Shorter now")
    second.locator("input[name=tag][value=concern]").check()
    second.locator("button:has-text('Send comment')").click()
    expect(second.locator("[data-my-comments] li")).to_have_text(["Concern: Shorter now"])

    # Drafts: Approve saves on tap; a change asked for says Save is needed until it is saved.
    stage_button(console, "Vote on drafts").click()
    console.locator("button:has-text('Next: Voting')").click()
    dcards = phone.locator("[data-card]")
    expect(dcards).to_have_count(2)
    expect(count).to_have_text("1 of 2 · 0 of 2 done")
    dcards.nth(0).locator("input[name=value][value=approve]").check()
    expect(dcards.nth(0).locator(".saved-line")).to_have_text("✓ Saved: Approve")
    expect(count).to_have_text("1 of 2 · 1 of 2 done")
    phone.locator("button[data-pager=next]").click()
    dcards.nth(1).locator("input[name=value][value=changes]").check()
    line = dcards.nth(1).locator(".saved-line")
    expect(line).to_contain_text("Not saved yet: write what must change")
    dcards.nth(1).locator("textarea[name=note]").fill("Bigger hotline number")
    expect(line).to_contain_text("Not saved yet: tap “Save my vote”")
    dcards.nth(1).locator("button:has-text('Save my vote')").click()
    expect(line).to_have_text("✓ Saved: Approve with changes")
    expect(console.locator(".draft-results")).to_contain_text("Bigger hotline number")

    # Back to the concepts (and their voting): the phone shows its own ratings and comment there.
    stage_button(console, "Review concepts").click()
    expect(phone.locator("[data-card]")).to_have_count(4)
    expect(phone.locator("[data-card]").nth(0).locator("button[data-criterion=clear][data-value='4']")).to_have_attribute(
        "aria-checked", "true")
    expect(count).to_contain_text("1 of 4 done")
    show_card(phone, 1)
    expect(phone.locator("[data-card]").nth(1).locator("[data-my-comments] li")).to_have_text(
        ["Concern: Shorter now"])
    stage_button(console, "Vote on drafts").click()
    expect(phone.locator("[data-card]")).to_have_count(2)
    expect(count).to_contain_text("2 of 2 done")

    # In Norwegian, the counter and the kind's label speak Norwegian.
    phone.goto(f"{room.base}/lang/nb?next=/j/{w.code}")
    live(phone)
    expect(phone.locator(".phone-stage .eyebrow").first).to_contain_text("Stem over utkast")
    expect(phone.locator(".pager-count")).to_contain_text("av 2")
