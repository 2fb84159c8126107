"""The console at 300 ideas, in Debian's Chromium on a real server (browse.py): the pushed view lists
the newest ideas; the facilitator searches for an older one, hides it, and merges two found by search.
The search and what it found survive the pushes each action causes. Screenshots of the console
(1366 x 768) go to $CHARRETTE_SHOTS (default: a temporary folder)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.a11y import axe, blocking, describe
from tests.support import launch_browser, server_and_app, sign_in
from workshop.extensions import db
from workshop.flow import phases, workshops
from workshop.models import Facilitator, Item, Participant

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000
MANY = 300


def big_room(title: str):
    """A trend stage of the demo facilitator with MANY ideas from as many phones, three awaiting approval."""
    owner = db.session.scalar(db.select(Facilitator))
    w = workshops.create_workshop(owner, title=title, topic="Safe migration")
    stage = w.current_stage
    phases.set_phase(w, stage.id, "collect")
    people = [Participant(workshop_id=w.id, token=f"{w.code}-{i}", group=w.groups[i % len(w.groups)])
              for i in range(MANY)]
    db.session.add_all(people)
    db.session.flush()
    db.session.add_all(Item(stage_id=stage.id, participant_id=p.id,
                            title=f"Idea number {i:03d} about work abroad",
                            hidden=i >= MANY - 3, pending=i >= MANY - 3) for i, p in enumerate(people))
    db.session.commit()
    return w, stage


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A server, a big room and Chromium."""
    with server_and_app(tmp_path_factory.mktemp("console-many")) as (base, _app, shots), \
            sync_playwright() as pw:
        w, stage = big_room("A big room")
        browser = launch_browser(pw)
        expect.set_options(timeout=TIMEOUT_MS)
        yield {"base": base, "w": w, "stage": stage, "browser": browser, "shots": shots}
        browser.close()


def open_console(world, w):
    context = world["browser"].new_context(viewport={"width": 1366, "height": 768},
                                           bypass_csp=True)  # axe is injected as a script
    context.set_default_timeout(TIMEOUT_MS)
    console = context.new_page()
    sign_in(console, world["base"])
    console.goto(f"{world['base']}/w/{w.code}/console")
    return context, console


def item(world, title_start, stage=None):
    db.session.expire_all()
    return db.session.scalar(db.select(Item).where(Item.stage_id == (stage or world["stage"]).id,
                                                   Item.title.startswith(title_start)))


def test_search_hide_and_merge_among_many_ideas(world):
    context, console = open_console(world, world["w"])
    expect(console.locator(".listed-line")).to_contain_text(f"Showing 43 of {MANY} ideas")
    expect(console.locator(".console-tabs .badge.pending")).to_contain_text("3 awaiting approval")
    console.screenshot(path=str(world["shots"] / "console-many-ideas.png"))

    # Hide an old idea, found by searching: the search stays open, typed and listed through the push.
    finder = console.locator("details.browse[data-browse^='items-']")
    finder.locator("summary").click()
    expect(finder.locator("[data-found] .console-ideas > li")).to_have_count(20)  # the first page at once
    finder.locator("[data-find-q]").fill("number 007")
    row = finder.locator("[data-found] .console-ideas > li", has_text="Idea number 007")
    expect(row).to_have_count(1)
    expect(finder.locator("[data-found] .console-ideas > li")).to_have_count(1)
    row.scroll_into_view_if_needed()
    console.screenshot(path=str(world["shots"] / "console-many-search.png"))
    assert not (bad := blocking(axe(console))), describe(bad)
    row.locator("button[data-event='item:hide']").click()
    expect(row).to_have_class("is-hidden")
    expect(row.locator("button[data-event='item:hide']")).to_contain_text("Show")
    expect(finder.locator("[data-find-q]")).to_have_value("number 007")
    assert item(world, "Idea number 007").hidden

    # Merge: the duplicate and the idea to keep, each found by its own search.
    merge = console.locator("details.merge-panel")
    merge.locator("summary").click()
    dup, keep = merge.locator("fieldset").nth(0), merge.locator("fieldset").nth(1)
    dup.locator("[data-find-q]").fill("number 010")
    dup.locator("label", has_text="Idea number 010").locator("input").check()
    keep.locator("[data-find-q]").fill("number 011")
    keep.locator("[data-find-q]").press("Enter")  # searches; never submits the merge half-filled
    keep.locator("label", has_text="Idea number 011").locator("input").check()
    merge.scroll_into_view_if_needed()
    console.screenshot(path=str(world["shots"] / "console-many-merge.png"))
    merge.locator("button", has_text="Merge the duplicate").click()
    expect(console.locator(".toast")).to_be_hidden()
    target = item(world, "Idea number 011")
    for _ in range(50):
        if item(world, "Idea number 010").merged_into_id:
            break
        console.wait_for_timeout(100)
    assert item(world, "Idea number 010").merged_into_id == target.id
    finder.locator("[data-find-q]").fill("number 011")
    expect(finder.locator("[data-found] .console-ideas > li", has_text="Idea number 011")).to_contain_text(
        "+ “Idea number 010 about work abroad”")
    context.close()


def test_the_decision_offers_the_leaders_and_any_idea_found_by_search(world):
    w, stage = big_room("A big decision")
    phases.set_phase(w, stage.id, "vote")
    phases.set_phase(w, stage.id, "results")
    context, console = open_console(world, w)
    panel = console.locator("#panel-decision")
    expect(panel.locator(".ranked-choice")).to_have_count(40)
    expect(console.locator("#panel-tally")).to_contain_text("and 257 more")
    finder = panel.locator("details.browse")
    finder.locator("summary").click()
    finder.locator("[data-find-q]").fill("number 123")
    finder.locator("label", has_text="Idea number 123").locator("input").check()
    panel.locator("#rationale").fill("The room chose it after a long talk.")
    finder.scroll_into_view_if_needed()
    console.screenshot(path=str(world["shots"] / "console-many-decision.png"))
    assert not (bad := blocking(axe(console))), describe(bad)
    panel.locator("button.primary").click()
    chosen = item(world, "Idea number 123", stage)
    for _ in range(50):
        db.session.expire_all()
        if db.session.get(type(stage), stage.id).decision:
            break
        console.wait_for_timeout(100)
    assert db.session.get(type(stage), stage.id).decision["item_ids"] == [chosen.id]
    # The pushed view now offers it with the leaders, ticked.
    expect(panel.locator(f".ranked-choice input[value='{chosen.id}']")).to_be_checked()
    context.close()
