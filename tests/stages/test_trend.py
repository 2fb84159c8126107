"""Pick a trend: dot voting within a budget, moving dots, replays, results with ties."""
import re
import threading

import pytest
from sqlalchemy import func, select

from tests.conftest import cast_vote, gen_ideas, gen_participant, gen_workshop
from workshop.errors import Refused
from workshop.extensions import db
from workshop.flow import phases
from workshop.flow.items import hide_item
from workshop.models import Participant, Vote
from workshop.stages import kind_of


def sample_vote(item_id: int, n: int) -> dict:
    """A vote on the n-th of two items, for the family tests of every kind (test_kinds.py)."""
    return {"item_id": item_id, "dots": 1}



@pytest.fixture
def voting(app):
    """A workshop whose Trend stage is open for voting on three ideas."""
    w = gen_workshop()
    items = gen_ideas(w, "Fake job offers", "Rural recruiters", "Debt bondage")
    phases.set_phase(w, w.stages[0].id, "vote")
    return w, items


def dots(w, person, item, n, cid):
    return cast_vote(w, person, {"cid": cid, "item_id": item.id, "dots": n})


def test_dots_can_be_stacked_and_moved_within_the_budget(voting):
    w, (a, b, c) = voting
    me = gen_participant(w)
    mine = dots(w, me, a, 2, "cid-00001")
    assert mine["dots"] == {a.id: 2} and mine["left"] == 1 and mine["budget"] == 3
    dots(w, me, b, 1, "cid-00002")
    with pytest.raises(Refused) as refused:
        dots(w, me, c, 1, "cid-00003")
    assert "0 of 3" in refused.value.message
    dots(w, me, a, 1, "cid-00004")  # move one dot from a ...
    mine = dots(w, me, c, 1, "cid-00005")  # ... to c
    assert mine["dots"] == {a.id: 1, b.id: 1, c.id: 1} and mine["left"] == 0


def test_a_replayed_vote_is_stored_once(voting):
    w, (a, b, _c) = voting
    me = gen_participant(w)
    dots(w, me, a, 2, "cid-00001")
    dots(w, me, a, 1, "cid-00002")
    dots(w, me, a, 1, "cid-00002")  # the retry of the last action after a reconnect
    assert db.session.scalar(select(func.count(Vote.id))) == 1
    assert db.session.scalar(select(Vote.value)) == 1


def test_votes_are_refused_outside_the_vote_phase_and_for_bad_values(voting):
    w, (a, _b, _c) = voting
    me = gen_participant(w)
    for bad in ({"cid": "cid-00001", "item_id": a.id, "dots": 4},
                {"cid": "cid-00001", "item_id": a.id, "dots": -1},
                {"cid": "cid-00001", "item_id": a.id, "dots": "two"},
                {"cid": "cid-00001", "item_id": 987654, "dots": 1},
                {"cid": "no", "item_id": a.id, "dots": 1},
                {"cid": "cid-00001", "item_id": a.id, "dots": 1, "participant_id": 1},
                {"cid": "cid-00001", "item_id": a.id, "dots": {"$gt": 1}},
                ["not", "a", "dict"]):
        with pytest.raises(Refused):
            cast_vote(w, me, bad)
    phases.reveal(w, w.stages[0].id)
    with pytest.raises(Refused) as refused:
        dots(w, me, a, 1, "cid-00009")
    assert "closed" in refused.value.message
    assert db.session.scalar(select(func.count(Vote.id))) == 0


def test_two_tabs_racing_cannot_overspend_the_budget(app, voting):
    """Two threads (two tabs) put 2 dots each on different ideas at the same time."""
    w, (a, b, _c) = voting
    me = gen_participant(w)
    ids = (w.id, me.id)
    outcomes = []
    barrier = threading.Barrier(2)

    def tab(item_id, cid):
        with app.app_context():
            from workshop.models import Participant, Workshop
            workshop, person = db.session.get(Workshop, ids[0]), db.session.get(Participant, ids[1])
            barrier.wait()
            try:
                cast_vote(workshop, person, {"cid": cid, "item_id": item_id, "dots": 2})
                outcomes.append("ok")
            except Refused:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tab, args=(a.id, "tab-a-0001")),
               threading.Thread(target=tab, args=(b.id, "tab-b-0001"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    db.session.expire_all()
    assert sorted(outcomes) == ["ok", "refused"]
    assert db.session.scalar(select(func.sum(Vote.value)).filter_by(participant_id=me.id)) == 2


def test_results_rank_with_ties_and_break_down_by_group(voting):
    w, (a, b, c) = voting
    youth, gov, ngo = (gen_participant(w, g) for g in ("Youth", "Government", "Civil society"))
    dots(w, youth, a, 2, "cid-y0001")
    dots(w, youth, b, 1, "cid-y0002")
    dots(w, gov, b, 1, "cid-g0001")
    dots(w, ngo, a, 1, "cid-n0001")
    dots(w, ngo, b, 1, "cid-n0002")
    rows = kind_of(w.stages[0]).results(w.stages[0])
    assert [(r.item_id, r.score, r.rank, r.tied) for r in rows] == [
        (a.id, 3, 1, True), (b.id, 3, 1, True), (c.id, 0, 3, False)]
    assert rows[1].by_group == {"Youth": 1, "Government": 1, "Civil society": 1}
    assert kind_of(w.stages[0]).progress(w.stages[0]) == {"voters": 3, "dots": 6}


def test_hidden_ideas_give_their_dots_back(voting):
    w, (a, b, c) = voting
    me = gen_participant(w)
    dots(w, me, a, 3, "cid-00001")
    hide_item(w, a.id, True)
    assert dots(w, me, b, 3, "cid-00002")["left"] == 0
    assert [r.item_id for r in kind_of(w.stages[0]).results(w.stages[0])] == [b.id, c.id]


# --- a long ballot comes a page at a time ------------------------------------------------------

@pytest.fixture
def long_ballot(app, browser):
    """Seventy ideas in the vote, and a joined phone (its HTTP client); the ideas in its ballot's order."""
    from workshop import views
    w = gen_workshop()
    items = gen_ideas(w, *[f"Idea number {i}" for i in range(70)])
    phases.set_phase(w, w.stages[0].id, "vote")
    phone = browser()
    phone.join(w.code, group=w.groups[0])
    phone.order = views.order_of(Participant.query.order_by(Participant.id.desc()).first().id)
    return w, views.ballot_order(w, w.stages[0], items, phone.order), phone


def _cards(html: str) -> list[str]:
    return re.findall(r'class="dot-card[^"]*" data-item="(\d+)"', html)


def test_a_phone_gets_a_long_ballot_a_page_at_a_time(long_ballot):
    from workshop import live, views
    w, items, phone = long_ballot
    ids = [str(i.id) for i in items]
    pushed = live.payload(w, "phone", "en", phone.order)["html"]  # what every phone of its order gets
    assert _cards(pushed) == ids[:views.BALLOT_PAGE] and 'data-more="30"' in pushed
    assert "Show 30 more ideas" in pushed
    second = phone.http.get(f"/j/{w.code}/ballot?from=30")
    assert second.status_code == 200 and _cards(second.text) == ids[30:60]
    assert 'data-more="60"' in second.text and 'value="__csrf__"' not in second.text
    last = phone.http.get(f"/j/{w.code}/ballot?from=60").text
    assert _cards(last) == ids[60:] and "data-more" not in last  # the end of the list
    assert phone.http.get(f"/j/{w.code}/ballot?from=x").status_code == 200  # a bad page: the first
    stranger = phone.app.test_client()
    assert stranger.get(f"/j/{w.code}/ballot?from=30").status_code == 403


def test_without_javascript_a_phone_pages_through_and_votes_on_a_later_page(long_ballot):
    w, items, phone = long_ballot
    page = phone.http.get(f"/j/{w.code}?from=30").text
    assert _cards(page) == [str(i.id) for i in items[30:60]] and 'href="?from=0#ballot"' in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    posted = phone.http.post(f"/j/{w.code}/act", data={
        "event": "vote", "cid": "nojs-000001", "csrf_token": csrf, "item_id": items[40].id,
        "from": "30", "step": "1"})
    assert posted.status_code == 302
    assert posted.headers["Location"].endswith(f"?from=30#card-{items[40].id}")  # back on that page
    assert db.session.scalar(select(func.sum(Vote.value)).where(Vote.item_id == items[40].id)) == 1


def test_revealed_results_show_the_leaders_on_the_projector_and_the_console(long_ballot):
    """The projector and phones show 12 rows; the console, past browse.LISTED ideas, its 40 leaders
    (the report lists every row)."""
    from tests.conftest import screens
    w, items, _phone = long_ballot
    for i, item in enumerate(items[:20]):
        dots(w, gen_participant(w), item, 1 + i % 3, f"cid-{i:06d}")
    phases.set_phase(w, w.stages[0].id, "results")
    phases.reveal(w, w.stages[0].id)
    html = screens(w)
    assert html["projector"].count('class="bar-label"') == 12 and "and 58 more" in html["projector"]
    assert html["phone"].count('class="bar-label"') == 12
    assert html["console"].count('class="bar-label"') == 40 and "and 30 more" in html["console"]
    def titles(page):
        return re.findall(r'<div class="bar-label">(.*?)</div>', page)
    assert titles(html["console"])[:12] == titles(html["projector"])  # the same leaders, in the same order


def test_the_live_tallys_leaders_are_the_first_rows_of_the_results(app):
    """Computed in SQL (thousands of ideas), the leaders equal the whole tally's first rows:
    ties across the cut, ideas without dots, dots on a hidden idea and moved dots included."""
    w = gen_workshop()
    items = gen_ideas(w, *(f"Idea {i}" for i in range(8)))
    stage = w.stages[0]
    phases.set_phase(w, stage.id, "vote")
    people = [gen_participant(w, group) for group in ("Youth", "Youth", "Government", "Civil society")]
    plan = [(0, 3, 2), (0, 4, 1), (1, 3, 1), (1, 5, 2), (2, 4, 2), (2, 1, 1), (3, 6, 3)]
    for k, (who, item, n) in enumerate(plan):
        dots(w, people[who], items[item], n, f"cid-{k:05d}")
    dots(w, people[3], items[6], 0, "cid-moved")  # moved away again: no dots left on idea 6
    dots(w, people[3], items[7], 3, "cid-00099")
    hide_item(w, items[7].id, True)  # its dots no longer count
    kind = kind_of(stage)
    whole = kind.results(stage)
    assert [r.score for r in whole] == [3, 3, 2, 1, 0, 0, 0]  # ties for first and for last
    for n in (1, 2, 3, 4, 7, 20):
        rows, total = kind.leaders(stage, n)
        assert total == len(whole) == 7
        assert [(r.item_id, r.score, r.rank, r.tied, r.share, r.by_group) for r in rows] == [
            (r.item_id, r.score, r.rank, r.tied, r.share, r.by_group) for r in whole[:n]]
