"""End to end in Debian's Chromium: facilitator console, projector and phones on a real server.

One server (`python wsgi.py`, gevent, SQLite file, demo workshop) and one Chromium
serve the whole module; every test opens its own browser contexts (a laptop, one
context per phone, so each phone has its own cookies and localStorage). The demo
workshop belongs to the full walk-through; the other tests create their own
workshop through the "New workshop" form.

Every assertion is about what a person sees. When a test fails, screenshots of
all its pages are saved under /tmp/charrette-e2e/<test name>/.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support import PHONE, join_phone, launch_browser, running_server, sign_in

DEMO_TITLE = "Safe labour migration"
LAPTOP = {"viewport": {"width": 1440, "height": 900}}
PROJECTOR = {"width": 1920, "height": 1080}
FAILURE_SHOTS = Path("/tmp/charrette-e2e")
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    """One server and one headless Chromium for the whole module."""
    tmp = tmp_path_factory.mktemp("browser")
    with running_server(tmp) as base, sync_playwright() as pw:
        browser = launch_browser(pw)
        expect.set_options(timeout=TIMEOUT_MS)
        try:
            yield SimpleNamespace(base=base, browser=browser, log=tmp / "server.log", db=tmp / "charrette.db")
        finally:
            browser.close()


@pytest.fixture
def new_context(e2e, request):
    """Make browser contexts (a laptop, a phone); close them after the test.

    If the test failed, first save a screenshot of every page it opened.
    """
    made = []
    failed_before = request.session.testsfailed

    def make(**options):
        context = e2e.browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        made.append(context)
        return context

    yield make
    if request.session.testsfailed > failed_before:
        out = FAILURE_SHOTS / request.node.name
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        for c, context in enumerate(made):
            for p, page in enumerate(context.pages):
                try:
                    page.screenshot(path=out / f"context{c}-page{p}.png", full_page=True)
                except Exception:  # a crashed page must not hide the real failure
                    pass
        print(f"screenshots in {out}/, server log in {e2e.log}")
    for context in made:
        context.close()


# --- helpers: what a facilitator does -----------------------------------------------

def conn(page):
    """The connection status indicator of a live page."""
    return page.locator("[data-conn]").first


def wait_live(page) -> None:
    """Wait until a live page's socket is connected and its first view is drawn."""
    expect(conn(page)).to_have_attribute("data-conn", re.compile("connected|saved"))
    expect(page.locator("#view > *").first).to_be_attached()


def phase_of(console):
    """The phase badge of the current stage on the console."""
    return console.locator(".stage-controls h2 .phase")


def open_projector(laptop, base: str, code: str):
    """Open the projector of a workshop as a 1920x1080 page of the laptop."""
    projector = laptop.new_page()
    projector.set_viewport_size(PROJECTOR)
    projector.goto(f"{base}/w/{code}/present")
    wait_live(projector)
    expect(projector.locator(".stage-body")).to_be_visible()
    return projector


def add_idea_on_console(console, title: str) -> None:
    """Use the console's "Add an idea yourself" form; wait until the idea is listed."""
    console.fill("#add-title", title)
    console.click("form.add-idea button")
    # The new view (with the idea) arrives before the form is reset; wait for it so
    # the next idea is not typed into a form that is about to be replaced.
    expect(console.locator(".console-ideas .idea-main strong").filter(
        has_text=re.compile(f"^{re.escape(title)}$"))).to_have_count(1)


def create_workshop(console, base: str, title: str, ideas: list[str],
                    groups=("Youth", "Government")) -> str:
    """Create a workshop with the form, open stage 1 for ideas, add them, open voting."""
    console.goto(base + "/workshops/new")
    console.fill("#title", title)
    console.fill("#topic", "Trafficking in persons")
    console.fill("#groups", "\n".join(groups))
    console.click("button:has-text('Create workshop')")
    console.wait_for_url("**/console")
    code = console.inner_text(".big-code").strip()
    expect(console.locator(".flash")).to_contain_text(code)
    wait_live(console)
    expect(phase_of(console)).to_have_text("Not started")
    console.click("button:has-text('Next: Collecting ideas')")
    expect(phase_of(console)).to_have_text("Collecting ideas")
    for idea in ideas:
        add_idea_on_console(console, idea)
    console.click("button:has-text('Next: Voting')")
    expect(phase_of(console)).to_have_text("Voting")
    return code


def merge_on_console(console, source_id: str, target_id: str) -> None:
    """Merge a duplicate with the console's merge list (whole titles: "Duplicate" and "Keep" columns)."""
    panel = console.locator("details.merge-panel")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    form = console.locator("form.merge-form")
    form.locator(f"input[name=source_id][value='{source_id}']").check()
    form.locator(f"input[name=target_id][value='{target_id}']").check()
    form.locator("button:has-text('Merge')").click()
    expect(console.locator(".console-ideas > li.is-merged")).to_have_count(1)


# --- helpers: what a phone shows ------------------------------------------------------

def card(phone, n: int):
    """The n-th idea's dot card (0-based, in the order the ideas came): each phone lists its ballot in
    its own shuffled order (views.ballot_order), so the card is found by its item, not its place."""
    phone.locator(".dot-card").first.wait_for()
    ids = phone.locator(".dot-card").evaluate_all(
        "els => els.map(e => +e.dataset.item).sort((a, b) => a - b)")
    return card_for(phone, str(ids[n]))


def card_for(phone, item_id: str):
    return phone.locator(f".dot-card[data-item='{item_id}']")


def expect_counts(phone, counts: list[str]) -> None:
    """The dots a phone shows on each idea, in the order the ideas came (its own list is shuffled)."""
    expect(phone.locator(".dot-card")).to_have_count(len(counts))
    for n, count in enumerate(counts):
        expect(card(phone, n).locator(".dot-count")).to_have_text(count)


def tap_plus(phone, n: int) -> None:
    card(phone, n).locator("button.plus").click()


def dots_left(phone):
    return phone.locator(".dots-left")


def expect_saved(phone) -> None:
    expect(conn(phone)).to_have_attribute("data-conn", "saved")
    expect(conn(phone)).to_have_text("Saved ✓")


def bar_rows(page):
    return page.locator(".bars .bar-row")


def expect_row(page, n: int, title: str, score: str, rank: str) -> None:
    """Check one line of the ranked result bars as shown (rank text, label, score)."""
    row = bar_rows(page).nth(n)
    expect(row.locator(".bar-label")).to_have_text(title)
    expect(row.locator(".score")).to_have_text(score)
    expect(row.locator(".rank")).to_have_text(rank)


# --- the tests --------------------------------------------------------------------------

@pytest.mark.browser
def test_facilitator_and_two_phones_complete_trend_stage(e2e, new_context):
    base = e2e.base
    laptop = new_context(**LAPTOP)
    console = laptop.new_page()
    sign_in(console, base)
    console.locator(".workshop-card", has_text=DEMO_TITLE).locator("a.button:has-text('Console')").click()
    console.wait_for_url("**/console")
    code = console.inner_text(".big-code").strip()
    wait_live(console)
    expect(phase_of(console)).to_have_text("Collecting ideas")

    projector = open_projector(laptop, base, code)
    expect(projector.locator(".join-code")).to_have_text(code)
    expect(projector.locator(".idea-card")).to_have_count(5)  # the demo's ideas
    joined = projector.locator("[data-participants]")
    expect(joined).to_have_text(re.compile(r"^\d+$"))
    before = int(joined.inner_text())

    # Two phones join with different stakeholder groups; the projector counts them.
    phone_a = join_phone(new_context(**PHONE), base, code, "Youth")
    expect(joined).to_have_text(str(before + 1))
    phone_b = join_phone(new_context(**PHONE), base, code, "Government")
    expect(joined).to_have_text(str(before + 2))
    participants = before + 2
    expect(console.locator(".console-join [data-participants]")).to_have_text(str(participants))
    for phone, group in ((phone_a, "Youth"), (phone_b, "Government")):
        expect(phone.locator("h1.phone-prompt")).to_be_visible()
        expect(phone.locator(".phone-foot")).to_contain_text(group)

    # Phone A sends an idea: on its own list, the projector's wall and the console.
    idea = "Students share job adverts from unknown agencies in class chats"
    phone_a.fill("#idea-title", idea)
    phone_a.click("button:has-text('Send idea')")
    expect(phone_a.locator("#idea-title")).to_have_value("")
    expect(phone_a.locator("[data-my-ideas-list] li")).to_have_text([idea])
    expect_saved(phone_a)
    expect(projector.locator(".idea-card")).to_have_count(6)
    expect(projector.locator(".idea-card").first).to_have_text(idea)  # newest first
    expect(projector.locator(".big-number")).to_have_text("6")
    new_on_console = console.locator(".console-ideas > li", has_text=idea)
    expect(new_on_console).to_be_visible()
    expect(new_on_console).to_contain_text("Youth")

    # The timer (its default, 5 min) counts down on the projector and the phones.
    expect(console.locator("#timer-min")).to_have_value("300")
    console.click("form[data-event='timer:start'] button:not([type=button])")
    timer = projector.locator(".join-panel [data-timer]")
    expect(timer).to_be_visible()
    expect(timer).to_have_text(re.compile(r"^(5:00|4:[0-5]\d)$"))
    first = timer.inner_text()
    expect(timer).not_to_have_text(first)  # it ticks
    expect(phone_b.locator("[data-timer]")).to_be_visible()
    expect(console.locator(".timer-actions button[data-event='timer:stop']")).to_be_visible()

    # Voting: every phone gets dot cards and a budget of 3.
    console.click("button:has-text('Next: Voting')")
    expect(phase_of(console)).to_have_text("Voting")
    for phone in (phone_a, phone_b):
        expect(phone.locator(".dot-card")).to_have_count(6)
        expect(dots_left(phone)).to_have_text("3 of 3 dots left")
        expect_counts(phone, ["0"] * 6)
    titles = [card(phone_a, n).locator(".dot-text strong").inner_text() for n in range(6)]
    ids = [card(phone_a, n).get_attribute("data-item") for n in range(6)]
    assert titles[5] == idea

    # Phone A: 2 dots on idea 1, 1 on idea 3; then every + is disabled.
    tap_plus(phone_a, 0)
    expect(dots_left(phone_a)).to_have_text("2 of 3 dots left")
    tap_plus(phone_a, 0)
    tap_plus(phone_a, 2)
    expect(dots_left(phone_a)).to_have_text("0 of 3 dots left")
    expect_counts(phone_a, ["2", "0", "1", "0", "0", "0"])
    for n in range(6):
        expect(card(phone_a, n).locator("button.plus")).to_be_disabled()
    expect(card(phone_a, 0).locator("button[data-dot='-1']")).to_be_enabled()
    expect(card(phone_a, 1).locator("button[data-dot='-1']")).to_be_disabled()
    expect(card(phone_a, 0)).to_have_class(re.compile(r"\bhas-dots\b"))
    expect_saved(phone_a)

    # Phone B: 1 dot on idea 1, 1 on idea 4.
    tap_plus(phone_b, 0)
    tap_plus(phone_b, 3)
    expect(dots_left(phone_b)).to_have_text("1 of 3 dots left")
    expect_counts(phone_b, ["1", "0", "0", "1", "0", "0"])
    expect(card(phone_b, 1).locator("button.plus")).to_be_enabled()
    expect_saved(phone_b)

    # The room sees progress, never the results before they are revealed; the
    # console alone has the live tally (all 5 dots).
    expect(console.locator(".bars .bar-row .score")).to_have_text(["3", "1", "1", "0", "0", "0"])
    expect(projector.locator(".big-number")).to_have_text("2")
    expect(projector.locator(".vote-progress")).to_contain_text(f"2 of {participants} have voted")
    expect(projector.locator(".idea-list li")).to_have_count(6)
    expect(console.locator(".progress-line")).to_contain_text(f"2 of {participants} have voted")
    expect(console.locator(".progress-line")).to_contain_text("results are hidden from the room")
    expect(console.locator(".bars")).to_be_visible()  # the facilitator's private tally
    for page in (projector, phone_a, phone_b):
        expect(page.locator(".bars")).to_have_count(0)
        expect(page.locator(".bar-row")).to_have_count(0)

    # The facilitator merges idea 4 into idea 5 while voting: the phones' lists
    # lose idea 4, and phone B's dot moves along to idea 5.
    merge_on_console(console, ids[3], ids[4])
    expect(console.locator(".console-ideas > li.is-merged")).to_have_count(1)
    expect(console.locator(".console-ideas > li.is-merged")).to_contain_text(f"merged into “{titles[4]}”")
    expect(console.locator(f"form.merge-form input[name=source_id][value='{ids[3]}']")).to_have_count(0)
    for phone in (phone_a, phone_b):
        expect(phone.locator(".dot-card")).to_have_count(5)
        expect(card_for(phone, ids[3])).to_have_count(0)
    listed = phone_b.locator(".dot-card .dot-text strong").all_inner_texts()
    assert sorted(listed) == sorted(titles[:3] + titles[4:])
    expect(card_for(phone_b, ids[4]).locator(".dot-count")).to_have_text("1")
    expect(dots_left(phone_b)).to_have_text("1 of 3 dots left")
    expect(dots_left(phone_a)).to_have_text("0 of 3 dots left")
    expect(projector.locator(".idea-list li")).to_have_count(5)
    expect(projector.locator(".idea-list li", has_text=titles[4])).to_contain_text("+ 1 merged idea")
    expect(projector.locator(".bars")).to_have_count(0)

    # Reveal: ranked bars on the projector and the phones; ties marked.
    console.click("button:has-text('Reveal results')")
    expect(phase_of(console)).to_have_text("Results")
    for page in (projector, phone_a, phone_b):
        expect(bar_rows(page)).to_have_count(5)
        expect_row(page, 0, titles[0], "3 dots", "1")
        expect_row(page, 1, titles[2], "1 dot", "2=tied")
        expect_row(page, 2, titles[4], "1 dot", "2=tied")
        expect_row(page, 3, titles[1], "0 dots", "4=tied")
        expect_row(page, 4, titles[5], "0 dots", "4=tied")
    expect(bar_rows(projector).first).to_have_class(re.compile(r"\btop\b"))
    expect(phone_a.get_by_role("heading", name="Results", level=1)).to_be_visible()
    expect(projector.locator(".idea-list")).to_have_count(0)

    # Decision: first choice (idea 1), rationale and minority view.
    rationale = "Most groups put it first, and partners can reach the audience online."
    minority = "Police asked to look at debt bondage first."
    form = console.locator(".decision-form")
    choice = form.locator("input[name=item_ids]").first
    assert choice.get_attribute("value") == ids[0]
    choice.check()
    console.fill("#rationale", rationale)
    console.fill("#minority", minority)
    form.locator("button:has-text('Record decision')").click()
    expect(phase_of(console)).to_have_text("Decided")

    decision = projector.locator(".decision")
    expect(decision.locator(".decision-title")).to_have_text([titles[0]])
    expect(decision.locator(".rationale")).to_have_text(f"Why: {rationale}")
    expect(decision.locator(".minority")).to_have_text(f"Minority view: {minority}")
    # The results stay up under the decision, the winner first.
    expect(bar_rows(projector).first.locator(".bar-label")).to_have_text(titles[0])
    expect(bar_rows(projector).first.locator(".score")).to_have_text("3 dots")
    steps = projector.locator(".agenda .agenda-step")
    expect(steps).to_have_count(5)
    expect(steps.first).to_have_class(re.compile(r"\bdecided\b"))
    expect(steps.first).to_have_attribute("aria-current", "step")
    expect(steps.nth(1)).not_to_have_class(re.compile(r"\bdecided\b"))
    for phone in (phone_a, phone_b):
        expect(phone.locator(".decision .decision-title")).to_have_text([titles[0]])


@pytest.mark.browser
def test_phone_reload_keeps_identity_and_dots(e2e, new_context):
    base = e2e.base
    laptop = new_context(**LAPTOP)
    console = laptop.new_page()
    sign_in(console, base)
    ideas = ["Fake agencies on social media", "Debt bondage through fees", "Visa overstays"]
    code = create_workshop(console, base, "Reload check", ideas)
    projector = open_projector(laptop, base, code)
    joined = projector.locator("[data-participants]")
    expect(joined).to_have_text("0")

    phone = join_phone(new_context(**PHONE), base, code, "Youth")
    expect(joined).to_have_text("1")
    expect(phone.locator(".dot-card")).to_have_count(3)
    tap_plus(phone, 0)
    tap_plus(phone, 0)
    tap_plus(phone, 2)
    expect(dots_left(phone)).to_have_text("0 of 3 dots left")
    expect_saved(phone)
    expect(projector.locator(".vote-progress")).to_contain_text("1 of 1 have voted")

    # Forget everything the page kept locally, then reload: what it shows must
    # come from the server, for the same participant (the session cookie).
    phone.evaluate("localStorage.clear()")
    phone.reload()
    wait_live(phone)
    expect(phone.locator(".dot-card")).to_have_count(3)
    expect(phone.locator("input[name=group]")).to_have_count(0)  # no join form again
    expect(phone.locator(".phone-foot")).to_contain_text("Youth")
    expect_counts(phone, ["2", "0", "1"])
    expect(dots_left(phone)).to_have_text("0 of 3 dots left")
    for n in range(3):
        expect(card(phone, n).locator("button.plus")).to_be_disabled()

    # Move a dot: the server still knows this phone's budget (a new participant
    # would have 3 fresh dots), and the projector refreshes with the same count.
    card(phone, 2).locator("button[data-dot='-1']").click()
    tap_plus(phone, 1)
    expect_counts(phone, ["2", "1", "0"])
    expect_saved(phone)
    expect(console.locator(".bars .bar-row").first.locator(".score")).to_have_text("2")
    expect(console.locator(".bars .bar-row").nth(1).locator(".bar-label")).to_have_text(ideas[1])
    expect(console.locator(".bars .bar-row").nth(1).locator(".score")).to_have_text("1")
    expect(projector.locator(".vote-progress")).to_contain_text("1 of 1 have voted")
    expect(joined).to_have_text("1")
    expect(console.locator(".console-join [data-participants]")).to_have_text("1")


@pytest.mark.browser
def test_phone_offline_votes_are_queued_and_sent_once(e2e, new_context):
    base = e2e.base
    laptop = new_context(**LAPTOP)
    console = laptop.new_page()
    sign_in(console, base)
    ideas = ["Recruiters in rural districts", "Closed chat groups"]
    code = create_workshop(console, base, "Offline check", ideas)
    projector = open_projector(laptop, base, code)

    phone_context = new_context(**PHONE)
    phone = join_phone(phone_context, base, code, "Government")
    expect(phone.locator(".dot-card")).to_have_count(2)
    sent = []  # socket.io frames the phone sends: `42<ack id>["vote",{...}]`
    phone.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))

    # Going offline drops the websocket (socket.io listens for the browser's
    # `offline` event); the status says so.
    phone_context.set_offline(True)
    expect(conn(phone)).to_have_attribute("data-conn", "offline", timeout=60_000)
    expect(conn(phone)).to_contain_text("Offline")

    tap_plus(phone, 0)
    expect(card(phone, 0).locator(".dot-count")).to_have_text("1")
    expect(dots_left(phone)).to_have_text("2 of 3 dots left")
    expect(conn(phone)).to_have_attribute("data-conn", "queued")
    expect(conn(phone)).to_have_text("Waiting for connection…")
    outbox = f"JSON.parse(localStorage.getItem('charrette:outbox:{code}') || '[]').length"
    assert phone.evaluate(outbox) == 1
    expect(console.locator(".progress-line")).to_contain_text("0 of 1 have voted")

    # Back online: the phone reconnects by itself and sends the queued dot.
    phone_context.set_offline(False)
    expect(conn(phone)).to_have_attribute("data-conn", "saved", timeout=30_000)
    assert phone.evaluate(outbox) == 0
    expect(projector.locator(".vote-progress")).to_contain_text("1 of 1 have voted")
    expect(card(phone, 0).locator(".dot-count")).to_have_text("1")
    votes = [f for f in sent if isinstance(f, str) and re.match(r'^42\d*\["vote",', f)]
    assert len(votes) == 1, votes

    console.click("button:has-text('Reveal results')")
    for page in (projector, console):
        expect(bar_rows(page)).to_have_count(2)
        expect(bar_rows(page).first.locator(".bar-label")).to_have_text(ideas[0])
        expect(bar_rows(page).nth(1).locator(".bar-label")).to_have_text(ideas[1])
    expect(bar_rows(projector).first.locator(".score")).to_have_text("1 dot")
    expect(bar_rows(projector).nth(1).locator(".score")).to_have_text("0 dots")
    expect(bar_rows(console).first.locator(".score")).to_have_text("1")
    expect(bar_rows(console).first.locator(".by-group")).to_have_text("Government 1")
    expect(bar_rows(phone)).to_have_count(2)
    expect(bar_rows(phone).first.locator(".score")).to_have_text("1 dot")


@pytest.mark.browser
def test_wrong_code_shows_clear_message(e2e, new_context):
    phone = new_context(**PHONE).new_page()
    phone.goto(e2e.base + "/")
    phone.fill("#code", "ZZZZZZ")
    phone.click("button:has-text('Join')")
    error = phone.locator("#code-error")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("ZZZZZZ")
    expect(error).to_contain_text("Check the code on the screen")
    expect(phone.locator("#code")).to_have_value("ZZZZZZ")  # kept, to fix a typo
    assert phone.url.rstrip("/") == e2e.base


@pytest.mark.browser
def test_half_typed_text_survives_live_updates(e2e, new_context):
    """A phone typing an idea, and a console typing notes, keep their text while
    the facilitator acts and votes come in; the merge form is empty after a merge."""
    base = e2e.base
    laptop = new_context(**LAPTOP)
    console = laptop.new_page()
    sign_in(console, base)
    code = create_workshop(console, base, "Drafts survive", ["Alpha idea", "Beta idea", "Gamma idea"])
    console.click("button:has-text('← Back: Collecting ideas')")
    expect(phase_of(console)).to_have_text("Collecting ideas")
    phone = join_phone(new_context(**PHONE), base, code, "Youth")
    phone.fill("#idea-title", "Half-typed idea about bus stations")
    phone.fill("#idea-detail", "still writing")
    console.fill("#notes", "Observed: youth group quiet")
    console.click("form[data-event='timer:start'] button")  # a facilitator action redraws every screen
    expect(phone.locator("[data-timer]")).to_be_visible()
    expect(phone.locator("#idea-title")).to_have_value("Half-typed idea about bus stations")
    expect(phone.locator("#idea-detail")).to_have_value("still writing")
    expect(console.locator("#notes")).to_have_value("Observed: youth group quiet")
    phone.click("button:has-text('Send idea')")
    expect(phone.locator("[data-my-ideas] li")).to_have_text(["Half-typed idea about bus stations"])
    expect(phone.locator("#idea-title")).to_have_value("")
    # the console lists the new idea while the notes keep their draft
    expect(console.locator(".console-ideas .idea-main strong", has_text="bus stations")).to_have_count(1)
    expect(console.locator("#notes")).to_have_value("Observed: youth group quiet")
    ids = console.locator("form.merge-form input[name=source_id]").evaluate_all(
        "els => els.map(e => e.value)")
    merge_on_console(console, ids[1], ids[0])
    expect(console.locator("form.merge-form input:checked")).to_have_count(0)


def test_a_late_reply_never_clears_the_next_entry(e2e, new_context):
    """The console's reply to "add an idea" can arrive after the idea is listed and the
    facilitator has started typing the next one: what was typed since stays."""
    held, sockets, hold = [], [], {"on": False}

    def relay(ws):
        sockets.append(ws)
        server = ws.connect_to_server()

        def from_server(message):
            # Engine.IO message "4" + Socket.IO ack "3": the replies to emits.
            if hold["on"] and isinstance(message, str) and message.startswith("43"):
                held.append((ws, message))
            else:
                ws.send(message)
        server.on_message(from_server)

    console = new_context(**LAPTOP).new_page()
    console.route_web_socket(re.compile(r".*/socket\.io/.*"), relay)
    sign_in(console, e2e.base)
    create_workshop(console, e2e.base, "Late replies", ["Alpha idea"])
    assert sockets, "the console's socket did not go through the relay"
    console.click("button:has-text('← Back: Collecting ideas')")
    expect(phase_of(console)).to_have_text("Collecting ideas")
    hold["on"] = True
    console.fill("#add-title", "First of two")
    console.click("form.add-idea button")
    expect(console.locator(".console-ideas .idea-main strong", has_text="First of two")).to_have_count(1)
    console.fill("#add-title", "Second of two")
    assert held, "the reply was not held back"
    hold["on"] = False
    for ws, message in held:
        ws.send(message)
    expect(console.locator("form.add-idea button")).not_to_have_attribute("data-busy", "1")
    expect(console.locator("#add-title")).to_have_value("Second of two")
    add_idea_on_console(console, "Second of two")
    expect(console.locator("#add-title")).to_have_value("")


def test_the_projector_scales_a_long_strategy_to_fit_the_screen(e2e, new_context):
    from sqlalchemy import select

    from config import TestingConfig
    from tests.conftest import gen_workshop, goto, update_settings
    from workshop import create_app
    from workshop.models import Facilitator

    # Every field near its maximum and twelve next steps: more than a 1080p screen holds at full size.
    with create_app(TestingConfig(DATABASE_URL=f"sqlite:///{e2e.db}")).app_context() as ctx:
        demo = ctx.app.extensions["sqlalchemy"].session.scalar(
            select(Facilitator).filter_by(email="demo@example.org"))
        w = gen_workshop(demo, title="Long strategy")
        stage = goto(w, "strategy", "draft")
        long = "Radio call-ins with trusted local voices, then posters at bus stations and clinics. " * 5
        update_settings(w, {
            "stage_id": stage.id, "key_message": "Ask three questions before you sign anything",
            "call_to_action": long[:300], "channels": long, "allies": long, "indicators": long,
            "step_what": [f"Step {i}: brief the regional partners on the final materials" for i in range(12)],
            "step_who": ["Ministry of Labour and the NGO coalition"] * 12,
            "step_when": ["By the end of March"] * 12})
        code = w.code
    page = new_context(viewport=PROJECTOR).new_page()
    sign_in(page, e2e.base)
    page.goto(f"{e2e.base}/w/{code}/present")
    expect(page.locator(".strategy")).to_contain_text("Step 11")
    page.wait_for_timeout(300)  # the fit runs right after the view is drawn
    # Paged, never shrunk: full size, and the pages turn by themselves ("1 / n").
    assert page.locator(".stage-body").evaluate("b => b.style.zoom") in ("", "1")
    expect(page.locator(".page-count")).to_contain_text("1 / ")
    end = page.locator(".stage-body").evaluate("b => b.getBoundingClientRect().bottom")
    assert end <= PROJECTOR["height"], end  # what is shown is on screen, not cut off
    page.screenshot(path=str(FAILURE_SHOTS / "projector-long-strategy.png"))
    # On a screen with room it is one page again.
    page.set_viewport_size({"width": 1920, "height": 4000})
    expect(page.locator(".page-count")).to_have_count(0)


@pytest.mark.browser
def test_a_long_ballot_shows_more_ideas_in_place(e2e, new_context):
    """32 ideas: a phone sees the first 30 and a "Show more" button; the next page joins the
    list, focus moves to it, and a dot given there is saved like any other."""
    laptop = new_context(**LAPTOP)
    console = laptop.new_page()
    sign_in(console, e2e.base)
    code = create_workshop(console, e2e.base, "Long ballot", [f"Long ballot idea {i:02d}" for i in range(32)])
    phone = join_phone(new_context(**PHONE), e2e.base, code, "Youth")
    at = phone.locator(".dot-card").nth  # by place on the page (the phone's own order)
    wait_live(phone)
    expect(phone.locator(".dot-card")).to_have_count(30)
    more = phone.locator("a[data-more]")
    expect(more).to_have_text("Show 2 more ideas")
    at(0).locator("button.plus").click()
    expect_saved(phone)
    more.click()
    expect(phone.locator(".dot-card")).to_have_count(32)
    expect(more).to_have_count(0)
    expect(at(30).locator("summary, button:not([disabled])").first).to_be_focused()
    expect(at(30).locator(".dot-count")).to_have_text("0")
    expect(at(0).locator(".dot-count")).to_have_text("1")  # the phone's dots stay drawn in
    at(31).locator("button.plus").click()
    expect_saved(phone)
    expect(dots_left(phone)).to_contain_text("1 of 3")
