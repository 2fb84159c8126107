"""Agreed strategy: summary from the decisions, live edits, fist-of-five with concerns flagged."""
import pytest

from tests.conftest import (
    add_item,
    cast_vote,
    decide,
    gen_ideas,
    gen_participant,
    gen_workshop,
    goto,
    screens,
    update_settings,
)
from workshop.errors import Refused
from workshop.flow import phases
from workshop.stages import kind_of


def sample_vote(item_id: int, n: int) -> dict:
    """A vote on the n-th of two items, for the family tests of every kind (test_kinds.py)."""
    return {"item_id": item_id, "value": 4 - n, "note": ""}



@pytest.fixture
def decided(app):
    """A workshop whose trend, audience, concept and drafts are decided."""
    w = gen_workshop()
    (trend_item,) = gen_ideas(w, "Fake job offers online")
    trend = w.stages[0]
    phases.set_phase(w, trend.id, "vote")
    decide(w, trend, item_ids=[trend_item.id])
    audience = goto(w, "audience", "collect")
    person = gen_participant(w)
    women = add_item(w, person, {"cid": "seg-00001", "title": "Women 18-25 seeking work",
                                      "age": "18-25", "place": "Two provinces", "channels": "Facebook"})
    parents = add_item(w, person, {"cid": "seg-00002", "title": "Their parents"})
    phases.set_phase(w, audience.id, "vote")
    decide(w, audience, primary_id=women.id, item_ids=[parents.id])
    concepts = next(s for s in w.stages if s.kind == "concepts")
    concept = add_item(w, None, {"stage_id": concepts.id, "title": "Check before you go",
                                      "message": "Three questions before any job abroad"})
    goto(w, "concepts", "vote")
    decide(w, concepts, item_ids=[concept.id])
    drafts = next(s for s in w.stages if s.kind == "drafts")
    video = add_item(w, None, {"stage_id": drafts.id, "title": "Video script"})
    poster = add_item(w, None, {"stage_id": drafts.id, "title": "Poster"})
    goto(w, "drafts", "vote")
    cast_vote(w, person, {"cid": "v-000001", "item_id": video.id, "value": "changes",
                               "note": "Subtitle it in the local language"})
    decide(w, drafts, verdicts=[f"{video.id}:changes", f"{poster.id}:rejected"])
    stage = goto(w, "strategy", "draft")
    return w, stage


def test_the_summary_is_prefilled_from_the_decisions(decided):
    w, stage = decided
    s = kind_of(stage).summary(stage)
    assert [i.title for i in s["trend"]] == ["Fake job offers online"]
    assert s["primary"].title == "Women 18-25 seeking work" and [i.title for i in s["secondary"]] == [
        "Their parents"]
    assert [i.title for i in s["concepts"]] == ["Check before you go"]
    assert [(d["item"].title, d["verdict"], d["changes"]) for d in s["drafts"]] == [
        ("Video script", "changes", ["Subtitle it in the local language"])]
    html = screens(w)["projector"]
    for text in ("Fake job offers online", "Women 18-25 seeking work", "18-25 · Two provinces",
                 "Three questions before any job abroad", "Subtitle it in the local language"):
        assert text in html
    assert "Poster" not in html  # rejected drafts are not part of the strategy


def test_the_facilitator_writes_the_rest_live(decided):
    w, stage = decided
    update_settings(w, {"stage_id": stage.id, "call_to_action": "Call 1-2-3 before you sign",
                             "channels": "Facebook, radio", "allies": "Bus drivers, shop owners",
                             "indicators": "10% more calls", "step_what": ["Brief designers", ""],
                             "step_who": ["Ministry", ""], "step_when": ["1 March", ""]})
    written = kind_of(stage).written(stage)
    assert written["steps"] == [{"what": "Brief designers", "who": "Ministry", "when": "1 March"}]
    html = screens(w)
    for audience in ("projector", "phone"):
        assert "Call 1-2-3 before you sign" in html[audience] and "Bus drivers, shop owners" in html[audience]
    with pytest.raises(Refused):
        update_settings(w, {"stage_id": stage.id, "step_what": ["x"] * 13})
    with pytest.raises(Refused):
        update_settings(w, {"stage_id": stage.id, "call_to_action": "x" * 301})


def test_fist_of_five_flags_serious_concerns_before_agreeing(decided):
    w, stage = decided
    phases.set_phase(w, stage.id, "vote")
    item = stage.items[0]
    votes = [("Youth", 5, ""), ("Government", 4, ""), ("Civil society", 1, "No budget for radio"),
             ("Youth", 0, "")]
    for i, (group, value, note) in enumerate(votes):
        cast_vote(w, gen_participant(w, group=group),
                       {"cid": f"fist-{i:04d}", "item_id": item.id, "value": value, "note": note})
    with pytest.raises(Refused):
        cast_vote(w, gen_participant(w), {"cid": "fist-9999", "item_id": item.id, "value": 6})
    (c,) = kind_of(stage).results(stage)
    assert c.dist == [1, 1, 0, 0, 1, 1] and c.concerns == 2 and c.mean == 2.5
    assert "No budget for radio" in screens(w)["console"]
    assert "No budget for radio" not in screens(w)["projector"]
    phases.reveal(w, stage.id)
    html = screens(w)["projector"]
    assert "2 people have serious concerns (0–2)." in html and "No budget for radio" in html
    decide(w, stage, item_ids=[item.id], rationale="Concerns heard; radio budget to be found",
           minority_view="Civil society doubts the radio budget")
    assert stage.phase == "decided" and "The strategy is agreed" in screens(w)["projector"]


def test_a_participant_cannot_edit_the_strategy(app, browser):
    from tests.conftest import gen_facilitator
    w = gen_workshop(gen_facilitator("host@example.org"))
    stage = goto(w, "strategy", "draft")
    phone = browser()
    phone.join(w.code, "Youth")
    sock = phone.socket(w.code, "phone")
    reply = sock.emit("stage:settings", {"stage_id": stage.id, "call_to_action": "Hacked"}, callback=True)
    assert reply["ok"] is False
    assert kind_of(stage).written(stage)["call_to_action"] == ""
