"""The console at many ideas (browse.py): the pushed view lists a bounded part, what awaits approval
first, and the facilitator finds, hides and merges any other idea over HTTP, for this console only."""
import re

import pytest

from tests.conftest import decide, gen_facilitator, gen_participant, gen_workshop, screens
from workshop import browse
from workshop.extensions import db
from workshop.flow import phases
from workshop.models import Item
from workshop.stages import KINDS

MANY = 300


@pytest.fixture
def crowd(app):
    """A trend stage with MANY ideas from as many phones, the last five awaiting approval."""
    w = gen_workshop(gen_facilitator())
    stage = w.current_stage
    phases.set_phase(w, stage.id, "collect")
    people = [gen_participant(w, group=w.groups[i % len(w.groups)]) for i in range(MANY)]
    db.session.add_all(Item(stage_id=stage.id, participant_id=p.id, title=f"Idea number {i:03d}",
                            hidden=i >= MANY - 5, pending=i >= MANY - 5) for i, p in enumerate(people))
    db.session.commit()
    return w


def ids_in(html: str, attr: str = "data-item_id") -> set[int]:
    return {int(i) for i in re.findall(rf'{attr}="(\d+)"', html)}


def console_of(browser, w):
    laptop = browser()
    laptop.login()
    return laptop, laptop.socket(w.code, "console")


def test_the_pushed_console_view_stays_small_and_lists_what_awaits_approval(crowd):
    html = screens(crowd)["console"]
    assert len(html.encode()) < 150_000  # every idea listed, it was over 350 KB at 300 ideas
    stage = crowd.current_stage
    waiting = [i.id for i in stage.items if i.pending]
    assert len(waiting) == 5 and "5 awaiting approval" in html
    for item_id in waiting:
        assert f'data-item_id="{item_id}" data-hidden=""' in html  # its Approve button
    assert f"Showing {5 + browse.LISTED} of {MANY} ideas" in html
    assert "Idea number 294" in html and "Idea number 001" not in html  # the newest, not the oldest
    assert 'class="merge-table"' not in html and f'/stages/{stage.id}/browse?pick=source_id' in html
    assert f'data-browse="items-{stage.id}"' in html
    assert "(295)" in html  # the ideas in the vote, counted in SQL


def test_a_few_ideas_are_listed_whole_as_before(app):
    w = gen_workshop(gen_facilitator())
    phases.set_phase(w, w.current_stage.id, "collect")
    from tests.conftest import gen_ideas
    gen_ideas(w, "One", "Two", "Three")
    html = screens(w)["console"]
    assert 'class="merge-table"' in html and "Showing" not in html and "data-browse" not in html


def test_an_idea_past_the_first_page_is_found_then_hidden_and_merged(crowd, browser):
    laptop, console = console_of(browser, crowd)
    stage = crowd.current_stage
    old = next(i for i in stage.items if i.title == "Idea number 007")
    other = next(i for i in stage.items if i.title == "Idea number 008")
    assert old.id not in ids_in(screens(crowd)["console"])
    page = laptop.http.get(f"/w/{crowd.code}/stages/{stage.id}/browse?q=number+007")
    assert page.status_code == 200
    assert ids_in(page.text) == {old.id}
    assert "Correct the title" in page.text and "1 idea matches" in page.text
    assert console.emit("item:hide", {"item_id": old.id, "hidden": "1"}, callback=True)["ok"]
    hidden = laptop.http.get(f"/w/{crowd.code}/stages/{stage.id}/browse?show=hidden").text
    assert ids_in(hidden) == {old.id}
    assert console.emit("item:hide", {"item_id": old.id, "hidden": ""}, callback=True)["ok"]
    # Merging: the duplicate and the idea to keep are picked among searched ones (active only).
    picks = laptop.http.get(f"/w/{crowd.code}/stages/{stage.id}/browse?pick=source_id&q=number+00").text
    assert {old.id, other.id} <= {int(i) for i in re.findall(r'name="source_id" value="(\d+)"', picks)}
    assert 'type="radio"' in picks and "Idea number 007" in picks
    reply = console.emit("item:merge", {"source_id": old.id, "target_id": other.id}, callback=True)
    assert reply["ok"], reply
    db.session.expire_all()
    assert db.session.get(Item, old.id).merged_into_id == other.id
    found = laptop.http.get(f"/w/{crowd.code}/stages/{stage.id}/browse?q=number+008").text
    assert "+ “Idea number 007”" in found


def test_searched_pages_are_paged_and_narrowed(crowd, browser):
    laptop, _ = console_of(browser, crowd)
    stage = crowd.current_stage
    base = f"/w/{crowd.code}/stages/{stage.id}/browse"
    first, second = laptop.http.get(base).text, laptop.http.get(f"{base}?page=1").text
    assert len(ids_in(first, "data-item_id") & ids_in(second)) == 0
    assert f"1–{browse.PAGE} of {MANY}" in first and 'data-find-page="1"' in first
    pending = laptop.http.get(f"{base}?show=pending").text
    assert len(ids_in(pending)) == 5 and "awaiting approval" in pending
    assert "No idea matches" in laptop.http.get(f"{base}?q=%25nothing_").text  # LIKE wildcards are literal
    assert laptop.http.get(f"{base}?pick=password").status_code == 400


def test_only_the_owner_may_search_a_stage(crowd, browser):
    path = f"/w/{crowd.code}/stages/{crowd.current_stage.id}/browse?q=Idea"
    phone = browser()
    assert phone.join(crowd.code, group=crowd.groups[0]).status_code == 200
    reply = phone.http.get(path)
    assert reply.status_code in (302, 401) and "Idea number" not in reply.text
    gen_facilitator("other@example.org")
    other = browser()
    other.login("other@example.org")
    reply = other.http.get(path)
    assert reply.status_code in (403, 404) and "Idea number" not in reply.text


def test_results_and_the_decision_list_the_leaders_and_what_was_chosen(crowd):
    stage = crowd.current_stage
    phases.set_phase(crowd, stage.id, "vote")
    phases.set_phase(crowd, stage.id, "results")
    chosen = next(i for i in stage.items if i.title == "Idea number 200")  # far from the leaders
    decide(crowd, stage, item_ids=[chosen.id])
    html = screens(crowd)["console"]
    assert len(html.encode()) < 150_000
    assert html.count('class="bar-row') == browse.LISTED and f"and {MANY - 5 - browse.LISTED} more" in html
    boxes = re.findall(r'name="item_ids" value="(\d+)"( checked)?', html)
    assert len(boxes) == browse.LISTED + 1 and (str(chosen.id), " checked") in boxes
    assert "/browse?pick=item_ids" in html


def test_many_proposed_audiences_offer_the_leaders_as_primary_and_search_the_rest(app):
    from tests.conftest import goto
    w = gen_workshop(gen_facilitator())
    stage = goto(w, "audience", "collect")
    people = [gen_participant(w) for _ in range(60)]
    db.session.add_all(Item(stage_id=stage.id, participant_id=p.id, title=f"Segment {i:02d}",
                            data={"age": "15-24"}) for i, p in enumerate(people))
    db.session.commit()
    collecting = screens(w)["console"]
    assert "Showing 40 of 60 ideas" in collecting and "(60)" in collecting and "15-24" in collecting
    phases.set_phase(w, stage.id, "vote")
    phases.set_phase(w, stage.id, "results")
    far = next(i for i in stage.items if i.title == "Segment 59")
    decide(w, stage, primary_id=far.id, item_ids=[far.id])  # chosen by a search: offered from now on
    html = screens(w)["console"]
    primary = re.search(r'<select id="primary".*?</select>', html, re.S).group(0)
    assert primary.count("<option value=\"") == browse.LISTED + 2  # "Choose…", the leaders, the chosen one
    assert f'<option value="{far.id}" selected>' in primary and "/browse?pick=item_ids" in html


@pytest.mark.parametrize("key", sorted(k for k, kind in KINDS.items() if kind.crowd_items))
def test_the_projector_loads_only_its_wall_and_draws_what_the_whole_view_draws(app, monkeypatch, key):
    """Every kind whose ideas come from every phone, through collect, vote, revealed and decided:
    the projector's bounded view (browse.room_ids) renders the same slide as loading every idea."""
    from tests.conftest import cast_vote
    from tests.stages.test_kinds import stage_in_vote

    w = gen_workshop(gen_facilitator())
    stage, items, module = stage_in_vote(w, key, [f"{key} idea {n:03d}" for n in range(MANY // 4)])
    people = [gen_participant(w) for _ in range(6)]
    for n, person in enumerate(people):  # votes on the oldest and the newest ideas
        cast_vote(w, person, {"cid": f"{key}-room-{n:03d}", **module.sample_vote(items[-1 - n].id, 0)})
        cast_vote(w, person, {"cid": f"{key}-room-{n + 50:03d}", **module.sample_vote(items[n].id, 1)})
    items[3].hidden = True
    db.session.commit()
    loaded = []
    real_load = browse.load
    monkeypatch.setattr(browse, "load", lambda ids: loaded.append(len(set(ids))) or real_load(ids))

    def both():
        bounded = screens(w)["projector"]
        monkeypatch.setattr(browse, "LISTED", 10_000)  # every idea loaded: the view as it was
        whole = screens(w)["projector"]
        monkeypatch.setattr(browse, "LISTED", 40)
        return bounded, whole

    for phase in ("collect", "vote", "results"):
        phases.set_phase(w, stage.id, phase)
        if phase == "results":
            phases.reveal(w, stage.id, True)
        bounded, whole = both()
        assert bounded == whole, phase
        assert f"{key} idea" in bounded and "and " in bounded  # a wall of some, and how many more
    chosen = items[-1].id  # a leader; the audience kind also names its primary one
    decide(w, stage, item_ids=[chosen], **({"primary_id": chosen} if key == "audience" else {}))
    bounded, whole = both()
    assert bounded == whole
    assert loaded and max(loaded) <= 3 * browse.LISTED  # never every idea (75 here)
