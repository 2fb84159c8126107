"""The rules of a session as plain functions: workshops, joining, phases, ideas, decisions."""
import pytest

from tests.conftest import (
    add_item,
    cast_vote,
    gen_facilitator,
    gen_ideas,
    gen_participant,
    gen_workshop,
    update_settings,
)
from workshop import checks, forms
from workshop.errors import Refused
from workshop.extensions import db
from workshop.flow import access, agenda, items, phases, workshops
from workshop.models import CODE_ALPHABET, Item, Vote
from workshop.stages import kind_of


def decision(stage, item_ids, rationale="Because.", minority=""):
    form = checks.parse(forms.DecisionForm, {"stage_id": stage.id, "item_ids": item_ids,
                                            "rationale": rationale, "minority_view": minority})
    return form


def test_new_workshop_follows_the_campaign_template(app):
    w = gen_workshop()
    assert [s.kind for s in w.stages] == ["trend", "audience", "concepts", "drafts", "strategy"]
    assert w.current_stage is w.stages[0] and w.stages[0].phase == "pending"
    assert len(w.code) == 6 and set(w.code) <= set(CODE_ALPHABET)
    assert not set(w.code) & set("01OIL")
    assert w.groups == workshops.default_groups() == ["Government", "Civil society", "UN / donor",
                                                   "Creative partner", "Youth", "Other"]
    assert not w.collect_names


def test_get_workshop_normalises_codes_and_checks_owner(app):
    w = gen_workshop()
    assert access.get_workshop(f" {w.code.lower()[:3]}-{w.code.lower()[3:]} ") is w
    with pytest.raises(Refused) as refused:
        access.get_workshop("ZZZZZZ")
    assert refused.value.status == 404 and "ZZZZZZ" in refused.value.message
    other = gen_facilitator("other@example.org")
    with pytest.raises(Refused) as refused:
        access.get_workshop(w.code, facilitator=other)
    assert refused.value.status == 403


def test_closed_workshop_refuses_joining_and_taking_part(app):
    w = gen_workshop()
    person = gen_participant(w)
    phases.set_phase(w, w.stages[0].id, "collect")
    workshops.set_open(w, False)
    with pytest.raises(Refused):
        access.get_workshop(w.code, open_only=True)
    with pytest.raises(Refused):
        workshops.join(w, None, "", "Youth")
    with pytest.raises(Refused):
        add_item(w, person, {"cid": "abcdefgh1", "title": "Late idea"})


def test_join_twice_with_the_same_token_is_the_same_participant(app):
    w = gen_workshop(collect_names=True)
    first = workshops.join(w, None, "Aino", "Youth")
    again = workshops.join(w, access.participant_for(w, first.token), "Aino K.", "Government")
    assert again.id == first.id and again.group == "Government" and again.name == "Aino K."
    assert workshops.participant_count(w) == 1
    with pytest.raises(Refused):
        workshops.join(w, None, "", "Not a group")


def test_anonymous_workshop_stores_no_names(app):
    w = gen_workshop(collect_names=False)
    assert workshops.join(w, None, "Real Name", "Youth").name == ""


def test_phases_move_along_the_kind_and_refuse_unknown_ones(app):
    w = gen_workshop()
    trend = w.stages[0]
    assert phases.steps(w) == (None, (trend, "collect"))
    phases.set_phase(w, trend.id, "collect")
    assert phases.steps(w) == ((trend, "pending"), (trend, "vote"))
    for bad in ("decided", "nonsense"):
        with pytest.raises(Refused):
            phases.set_phase(w, trend.id, bad)
    with pytest.raises(Refused):  # concepts are prepared by the facilitator, not collected
        phases.set_phase(w, w.stages[2].id, "collect")
    assert trend.phase == "collect" and w.stages[2].phase == "pending"


def test_steps_lead_to_the_next_stage_once_decided(app):
    w = gen_workshop()
    trend = w.stages[0]
    a, b = gen_ideas(w, "A", "B")
    phases.set_phase(w, trend.id, "vote")
    phases.reveal(w, trend.id)
    phases.decide(w, decision(trend, [a.id]))
    back, forward = phases.steps(w)
    assert back == (trend, "results")
    assert forward[0] == w.stages[1]


def test_reveal_needs_voting_and_closes_it(app):
    w = gen_workshop()
    trend = w.stages[0]
    gen_ideas(w, "A")
    with pytest.raises(Refused):
        phases.reveal(w, trend.id)
    phases.set_phase(w, trend.id, "vote")
    phases.reveal(w, trend.id)
    assert trend.phase == "results" and trend.revealed_at is not None
    phases.set_phase(w, trend.id, "vote")  # re-opening voting hides results again
    assert trend.revealed_at is None


def test_ideas_are_idempotent_per_client_id_and_only_while_collecting(app):
    w = gen_workshop()
    person = gen_participant(w)
    with pytest.raises(Refused):
        add_item(w, person, {"cid": "abcdefgh1", "title": "Too early"})
    phases.set_phase(w, w.stages[0].id, "collect")
    first = add_item(w, person, {"cid": "abcdefgh1", "title": "Fake job ads"})
    again = add_item(w, person, {"cid": "abcdefgh1", "title": "Fake job ads"})
    assert first.id == again.id
    assert db.session.query(Item).filter_by(stage_id=w.stages[0].id).count() == 1
    with pytest.raises(Refused):
        add_item(w, person, {"cid": "abcdefgh2", "title": "x" * 121})
    with pytest.raises(Refused):
        add_item(w, person, {"cid": "abcdefgh3", "title": "   "})
    with pytest.raises(Refused):
        add_item(w, person, {"title": "no client id"})
    phases.set_phase(w, w.stages[0].id, "vote")
    with pytest.raises(Refused):
        add_item(w, person, {"cid": "abcdefgh4", "title": "During the vote"})
    # the facilitator may still add one while voting
    assert add_item(w, None, {"title": "Facilitator's idea"}).participant_id is None


def test_merge_keeps_both_texts_and_moves_dots_without_breaking_budgets(app):
    w = gen_workshop()
    trend = w.stages[0]
    a, b, c = gen_ideas(w, "Fake job ads online", "Job scams on social media", "Debt bondage")
    phases.set_phase(w, trend.id, "vote")
    voter = gen_participant(w)
    cast_vote(w, voter, {"cid": "vote-0001", "item_id": a.id, "dots": 1})
    cast_vote(w, voter, {"cid": "vote-0002", "item_id": b.id, "dots": 2})
    items.merge_items(w, b.id, a.id)
    assert b.merged_into is a and b.title == "Job scams on social media" and b.participant_id
    votes = db.session.query(Vote).filter_by(participant_id=voter.id).all()
    assert [(v.item_id, v.value) for v in votes] == [(a.id, 3)]
    assert [(r.item_id, r.score) for r in kind_of(trend).results(trend)][0] == (a.id, 3)
    # merging again into c keeps the record flat: b now points at c too
    items.merge_items(w, a.id, c.id)
    assert a.merged_into is c and b.merged_into is c
    with pytest.raises(Refused):
        items.merge_items(w, c.id, c.id)
    with pytest.raises(Refused):
        items.merge_items(w, a.id, c.id)  # a is merged away already


def test_hide_takes_an_idea_out_of_the_vote_and_keeps_it_on_record(app):
    w = gen_workshop()
    a, b = gen_ideas(w, "Relevant", "Off topic")
    items.hide_item(w, b.id, True)
    assert not b.active and db.session.get(Item, b.id) is not None
    phases.set_phase(w, w.stages[0].id, "vote")
    with pytest.raises(Refused):
        cast_vote(w, gen_participant(w), {"cid": "vote-0001", "item_id": b.id, "dots": 1})


def test_decide_records_choice_rationale_and_minority(app):
    w = gen_workshop()
    trend = w.stages[0]
    a, b = gen_ideas(w, "A", "B")
    phases.set_phase(w, trend.id, "vote")
    phases.reveal(w, trend.id)
    phases.decide(w, decision(trend, [a.id], "Most votes, clear audience.", "Police preferred B."))
    assert trend.phase == "decided" and trend.decision == {"item_ids": [a.id]}
    assert trend.rationale == "Most votes, clear audience." and trend.minority_view == "Police preferred B."
    with pytest.raises(Refused):
        phases.decide(w, decision(trend, [a.id, 99999]))
    with pytest.raises(Refused):
        checks.parse(forms.DecisionForm, {"stage_id": trend.id, "item_ids": [a.id], "rationale": ""})


def test_timer_starts_and_stops(app):
    w = gen_workshop()
    phases.start_timer(w, 120)
    assert w.timer_seconds == 120 and w.timer_ends_at is not None
    phases.stop_timer(w)
    assert w.timer_ends_at is None


def test_ids_from_another_workshop_are_refused(app):
    mine, theirs = gen_workshop(), gen_workshop(gen_facilitator("x@example.org"))
    (their_idea,) = gen_ideas(theirs, "Theirs")
    with pytest.raises(Refused):
        items.hide_item(mine, their_idea.id, True)
    with pytest.raises(Refused):
        phases.goto_stage(mine, theirs.stages[0].id)
    assert not their_idea.hidden


def test_settings_go_through_the_kind_form(app):
    w = gen_workshop()
    trend = w.stages[0]
    update_settings(w, {"stage_id": trend.id, "dots": "5"})
    assert kind_of(trend).setting(trend, "dots") == 5
    for bad in ({"stage_id": trend.id, "dots": "0"}, {"stage_id": trend.id, "dots": "x"},
                {"stage_id": trend.id, "dots": "5", "evil": "1"}):
        with pytest.raises(Refused):
            update_settings(w, bad)
    assert kind_of(trend).setting(trend, "dots") == 5


def test_templates_give_the_stages_of_each_workshop_kind(app):
    host = gen_facilitator()
    kinds = {t: [s.kind for s in gen_workshop(host, template=t).stages]
             for t in ("campaign", "concepts", "drafts")}
    assert kinds == {"campaign": ["trend", "audience", "concepts", "drafts", "strategy"],
                     "concepts": ["concepts", "strategy"], "drafts": ["drafts", "strategy"]}
    with pytest.raises(Refused):
        gen_workshop(host, template="nonsense")


def test_the_agenda_can_be_edited_before_and_during_a_workshop(app):
    w = gen_workshop(template="concepts")
    concepts, strategy = w.stages
    extra = agenda.add_stage(w, "trend")
    assert [s.kind for s in w.stages] == ["concepts", "strategy", "trend"] and extra.position == 2
    agenda.move_stage(w, extra.id, -1)
    agenda.move_stage(w, extra.id, -1)
    assert [s.kind for s in w.stages] == ["trend", "concepts", "strategy"]
    assert [s.position for s in w.stages] == [0, 1, 2]
    with pytest.raises(Refused):
        agenda.move_stage(w, extra.id, -1)
    agenda.edit_stage(w, extra.id, "What goes wrong", "What do you see happening to young people?")
    assert extra.title == "What goes wrong"
    with pytest.raises(Refused, match="kind"):
        agenda.add_stage(w, "karaoke")
    with pytest.raises(Refused, match="on screen"):
        agenda.remove_stage(w, concepts.id)
    phases.goto_stage(w, extra.id)
    phases.set_phase(w, extra.id, "collect")
    add_item(w, gen_participant(w), {"cid": "idea-00001", "title": "Fake agencies"})
    phases.goto_stage(w, concepts.id)
    with pytest.raises(Refused, match="on record"):
        agenda.remove_stage(w, extra.id)
    agenda.remove_stage(w, strategy.id)
    assert [(s.kind, s.position) for s in w.stages] == [("trend", 0), ("concepts", 1)]


def test_going_back_and_reopening_voting_keeps_earlier_votes(app):
    w = gen_workshop()
    trend = w.stages[0]
    (a,) = gen_ideas(w, "A")
    phases.set_phase(w, trend.id, "vote")
    me = gen_participant(w)
    cast_vote(w, me, {"cid": "cid-00001", "item_id": a.id, "dots": 2})
    phases.decide(w, decision(trend, [a.id]))
    phases.goto_stage(w, w.stages[1].id)
    phases.set_phase(w, trend.id, "vote")  # back to the trend, voting again
    assert kind_of(trend).mine(trend, me)["dots"] == {a.id: 2}
