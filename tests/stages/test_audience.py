"""Choose the audience: profiles, top-3 ranking with moving ranks, Borda results, primary/secondary."""
import pytest
from sqlalchemy import func, select

from tests.conftest import (
    add_item,
    cast_vote,
    decide,
    gen_participant,
    gen_workshop,
    goto,
    screens,
    update_settings,
)
from workshop.errors import Refused
from workshop.extensions import db
from workshop.flow import items, phases
from workshop.models import Vote
from workshop.stages import kind_of


def sample_vote(item_id: int, n: int) -> dict:
    """A vote on the n-th of two items, for the family tests of every kind (test_kinds.py)."""
    return {"item_id": item_id, "value": n + 1}



@pytest.fixture
def ranking(app):
    """An audience stage with three proposed segments, open for ranking."""
    w = gen_workshop()
    stage = goto(w, "audience", "collect")
    people = [gen_participant(w, group=g) for g in ("Youth", "Government", "Youth")]
    segments = [add_item(w, people[i], {
        "cid": f"seg-{i:05d}", "title": title, "age": "18-25", "place": "Two provinces",
        "channels": "TikTok", "knowledge": "Little about recruiters", "attitudes": "Abroad is better",
        "practices": "Answer job ads online"}) for i, title in enumerate(
        ["Young women seeking work online", "Parents in border towns", "Recruiters' agents"])]
    phases.set_phase(w, stage.id, "vote")
    return w, stage, people, segments


def rank(w, person, item, place, cid):
    return cast_vote(w, person, {"cid": cid, "item_id": item.id, "value": place})


def test_a_segment_keeps_its_profile(ranking):
    _w, _stage, _people, (a, _b, _c) = ranking
    assert a.title == "Young women seeking work online"
    assert a.field("age") == "18-25" and a.field("practices") == "Answer job ads online"


def test_a_rank_moves_to_the_segment_that_gets_it_and_can_be_taken_back(ranking):
    w, _stage, (me, *_), (a, b, c) = ranking
    rank(w, me, a, 1, "cid-00001")
    rank(w, me, b, 2, "cid-00002")
    mine = rank(w, me, c, 1, "cid-00003")  # 1st moves from a to c
    assert mine["choices"] == {f"{b.id}:": 2, f"{c.id}:": 1}
    mine = rank(w, me, b, 0, "cid-00004")  # take 2nd back
    assert mine["choices"] == {f"{c.id}:": 1}
    rank(w, me, a, 1, "cid-00003")  # a replay of an old action changes nothing ...
    assert db.session.scalar(select(func.count(Vote.id))) == 1


def test_ranks_beyond_the_top_and_bad_payloads_are_refused(ranking):
    w, stage, (me, *_), (a, _b, _c) = ranking
    for bad in ({"cid": "cid-00001", "item_id": a.id, "value": 4},
                {"cid": "cid-00001", "item_id": a.id, "value": -1},
                {"cid": "cid-00001", "item_id": a.id, "value": 1, "criterion": "clear"},
                {"cid": "cid-00001", "item_id": 99999, "value": 1}):
        with pytest.raises(Refused):
            cast_vote(w, me, bad)
    update_settings(w, {"stage_id": stage.id, "top": 2})
    with pytest.raises(Refused, match="top 2"):
        rank(w, me, a, 3, "cid-00002")
    assert db.session.scalar(select(func.count(Vote.id))) == 0


def test_borda_results_with_distribution_and_groups(ranking):
    w, stage, (p1, p2, p3), (a, b, c) = ranking
    rank(w, p1, a, 1, "cid-00001")
    rank(w, p1, b, 2, "cid-00002")
    rank(w, p2, b, 1, "cid-00003")
    rank(w, p2, a, 2, "cid-00004")
    rank(w, p3, a, 1, "cid-00005")
    rows = {r.item_id: r for r in kind_of(stage).results(stage)}
    assert rows[a.id].score == 3 + 2 + 3 and rows[a.id].dist == [2, 1, 0]
    assert rows[b.id].score == 2 + 3 and rows[b.id].by_group == {"Youth": 2, "Government": 3}
    assert rows[c.id].score == 0 and rows[a.id].rank == 1


def test_merging_keeps_the_better_rank(ranking):
    w, _stage, (me, *_), (a, b, _c) = ranking
    rank(w, me, a, 3, "cid-00001")
    rank(w, me, b, 1, "cid-00002")
    items.merge_items(w, a.id, b.id)
    assert db.session.execute(select(Vote.item_id, Vote.value)).all() == [(b.id, 1)]


def test_decision_names_a_primary_and_secondary_audiences(ranking):
    w, stage, _people, (a, b, c) = ranking
    phases.reveal(w, stage.id)
    with pytest.raises(Refused, match="primary"):
        decide(w, stage, item_ids=[a.id])
    decide(w, stage, primary_id=b.id, item_ids=[a.id, b.id])
    assert stage.decision == {"item_ids": [b.id, a.id], "primary_id": b.id}
    html = screens(w)["projector"]
    assert "Primary audience" in html and "Secondary audience" in html


def test_each_screen_shows_the_ranking(ranking):
    w, stage, (me, *_), (a, _b, _c) = ranking
    rank(w, me, a, 1, "cid-00001")
    html = screens(w)
    assert f'data-choice data-unique data-toggle data-item="{a.id}" data-value="3"' in html["phone"]
    assert "rank your top 3" in html["projector"] and "Parents in border towns" in html["projector"]
    assert "1st: <strong>1</strong>" in html["console"]  # the console sees the live tally
    assert "1st: <strong>" not in html["projector"]        # the room does not, before the reveal
    phases.reveal(w, stage.id)
    assert "1st: <strong>1</strong>" in screens(w)["projector"]
