"""A campaign: its workshops in order, decisions carried forward through the kinds, amendments with a
reason, the campaign's strategy and its history; every campaign page guarded by sign-in and ownership."""
from __future__ import annotations

import pytest

from tests.actions import add_item, cast_vote
from tests.conftest import (
    decide,
    gen_facilitator,
    gen_participant,
    gen_workshop,
    goto,
    screens,
    update_settings,
)
from workshop import campaign_strategy, checks
from workshop.campaign_models import Campaign, StrategyChange
from workshop.errors import Refused
from workshop.extensions import db
from workshop.flow import campaigns, phases
from workshop.stages import KINDS, kind_of

PASSWORD = "correct horse battery"


def planning(facilitator):
    """A planning workshop that decided a trend and an audience with its profile, and agreed a strategy."""
    w = gen_workshop(facilitator, title="Planning", template="problem")
    from workshop.flow import agenda
    agenda.add_stage(w, "strategy")
    trend = goto(w, "trend", "collect")
    person = gen_participant(w, group=w.groups[0])
    idea = add_item(w, person, {"cid": "idea-0001", "title": "Fake job offers online",
                                "detail": "TikTok groups"})
    phases.set_phase(w, trend.id, "vote")
    cast_vote(w, person, {"cid": "dot-0001", "item_id": idea.id, "dots": 2})
    decide(w, trend, item_ids=[idea.id], rationale="The police see it daily",
           minority_view="Youth: debt bondage")
    audience = goto(w, "audience", "collect")
    women = add_item(w, person, {"cid": "seg-0001", "title": "Women 18-25 seeking work abroad",
                                 "age": "18-25",
                                 "place": "Two provinces", "knowledge": "Few know the licence check."})
    phases.set_phase(w, audience.id, "vote")
    decide(w, audience, primary_id=women.id, rationale="They travel")
    strategy = goto(w, "strategy", "draft")
    update_settings(w, {"stage_id": strategy.id, "call_to_action": "Call 1-2-3", "channels": "TikTok"})
    phases.set_phase(w, strategy.id, "vote")
    decide(w, strategy, item_ids=[strategy.items[0].id], rationale="Agreed")
    return w, idea, women


@pytest.fixture
def setup(app):
    facilitator = gen_facilitator()
    campaign = campaigns.create_campaign(facilitator, title="Safe migration", topic="Trafficking")
    w1, idea, women = planning(facilitator)
    campaigns.add_workshop(campaign, w1.id, facilitator.name)
    w2 = campaigns.new_workshop(campaign, facilitator, title="Concepts", template="concepts")
    return campaign, w1, w2, idea, women


def test_a_later_workshop_starts_with_what_the_earlier_one_decided(setup):
    campaign, w1, w2, idea, women = setup
    assert w2.groups == w1.groups and w2.language == campaign.language  # the same stakeholders
    strategy = next(s for s in w2.stages if kind_of(s).holds_strategy)
    summary = kind_of(strategy).summary(strategy)
    assert [i.title for i in summary["trend"]] == ["Fake job offers online"]
    assert summary["primary"].title == women.title
    assert summary["primary"].field("knowledge") == "Few know the licence check."
    written = kind_of(strategy).written(strategy)
    assert written["call_to_action"] == "Call 1-2-3" and written["channels"] == "TikTok"
    # The console shows it with a way to change it; the projector shows it before a stage starts.
    shown = screens(w2)
    assert "Already decided" in shown["console"] and "Fake job offers online" in shown["console"]
    assert f"/campaigns/{campaign.id}/amend/{women.id}?workshop={w2.id}" in shown["console"]
    assert "Already decided" in shown["projector"] and "Few know the licence check." in shown["projector"]
    assert "The police see it daily" in shown["projector"]
    phases.set_phase(w2, w2.current_stage.id, "vote")
    assert "Already decided" not in screens(w2)["projector"]  # only while nothing runs yet
    # A workshop outside any campaign, and the first one, start with nothing carried.
    assert "Already decided" not in screens(w1)["console"]
    assert "Already decided" not in screens(gen_workshop(campaign.facilitator, title="Alone"))["console"]


def test_the_generic_code_asks_the_kinds_for_their_parts(setup):
    """Every kind that decides says what it adds and what it is called; no kind is named outside stages/."""
    campaign, *_ = setup
    text = campaign_strategy.text(campaign)
    labels = {label for label, _words, _source in text.values()}
    assert {"Trend", "Primary audience", "Call to action"} <= labels
    assert text["primary.knowledge"][1] == "Few know the licence check."
    for kind in KINDS.values():
        assert isinstance(kind.strategy_labels, dict)


def test_an_amendment_needs_a_reason_and_reads_from_its_workshop_on(setup, client):
    campaign, w1, w2, idea, women = setup
    form_class = kind_of(women.stage).ItemForm
    fields = {"title": women.title, "age": "18-25", "place": "Two provinces", "channels": "",
              "knowledge": "Few know the licence check. Many think the embassy keeps passports.",
              "attitudes": "", "practices": ""}
    with pytest.raises(Refused, match="Say why"):
        campaigns.amend(campaign, women, checks.parse(form_class, fields), reason=" ", author="Fac",
                        workshop_id=w2.id)
    with pytest.raises(Refused, match="later workshop"):
        campaigns.amend(campaign, women, checks.parse(form_class, fields), reason="Baseline", author="Fac",
                        workshop_id=w1.id)
    campaigns.amend(campaign, women, checks.parse(form_class, fields), reason="The baseline pilot",
                    author="Fac",
                    workshop_id=w2.id)
    later = next(s for s in w2.stages if kind_of(s).holds_strategy)
    assert "embassy" in kind_of(later).summary(later)["primary"].field("knowledge")
    own = next(s for s in w1.stages if kind_of(s).holds_strategy)
    assert "embassy" not in kind_of(own).summary(own)["primary"].field("knowledge")  # its own record stays
    assert women.field("knowledge") == "Few know the licence check."
    change = next(c for c in campaign.history
                  if c.key == "primary.knowledge" and c.reason == "The baseline pilot")
    assert (change.before, change.where, change.author) == ("Few know the licence check.", "Concepts", "Fac")
    assert "embassy" in change.after
    assert "Changed later" in screens(w2)["projector"] and "The baseline pilot" in screens(w2)["projector"]


def test_the_amend_page_checks_the_kinds_form_and_the_reason(setup, client):
    campaign, w1, w2, idea, women = setup
    client.post("/login", data={"email": "fac@example.org", "password": PASSWORD})
    url = f"/campaigns/{campaign.id}/amend/{idea.id}"
    page = client.get(url + f"?workshop={w2.id}").get_data(as_text=True)
    assert 'value="Fake job offers online"' in page and "The police see it daily" in page
    reply = client.post(url, data={"title": "Fake job offers in closed groups", "detail": "x", "reason": "",
                                   "workshop_id": w2.id})
    assert reply.status_code == 200 and "Say why the decision changes" in reply.get_data(as_text=True)
    reply = client.post(url, data={"title": "", "detail": "", "reason": "Sharper", "workshop_id": w2.id})
    assert reply.status_code == 400
    reply = client.post(url, data={"title": "Fake job offers in closed groups", "detail": "x",
                                   "reason": "Sharper",
                                   "workshop_id": w2.id}, follow_redirects=True)
    assert "The history keeps" in reply.get_data(as_text=True)
    assert campaign_strategy.text(campaign)["trend"][1] == "Fake job offers in closed groups"
    # A decision of the last workshop cannot be amended yet: there is no later workshop.
    concepts = next(s for s in w2.stages if kind_of(s).takes_images)
    item = add_item(w2, None, {"stage_id": concepts.id, "title": "Ask three questions", "message": "Ask"})
    phases.set_phase(w2, concepts.id, "vote")
    decide(w2, concepts, item_ids=[item.id])
    assert client.get(f"/campaigns/{campaign.id}/amend/{item.id}").status_code == 400
    assert client.get(f"/campaigns/{campaign.id}/amend/999999").status_code == 404


def test_history_records_who_changed_what_where_and_why(setup):
    campaign, w1, w2, idea, women = setup
    campaign_strategy.sync(campaign)
    first = {c.key: c for c in campaign.history}
    assert first["trend"].after == "Fake job offers online"
    assert first["trend"].reason == "The police see it daily"
    assert first["trend"].where == "Planning" and first["trend"].author == "Fac"
    assert first["call_to_action"].after == "Call 1-2-3" and first["call_to_action"].reason == "Agreed"
    count = len(campaign.history)
    campaign_strategy.sync(campaign)
    assert len(campaign.history) == count  # nothing changed, nothing recorded
    # The concept workshop agrees a new call to action: recorded against it, with its rationale.
    strategy = goto(w2, "strategy", "draft")
    update_settings(w2, {"stage_id": strategy.id, "call_to_action": "Ask three questions, then call 1-2-3"})
    phases.set_phase(w2, strategy.id, "vote")
    decide(w2, strategy, item_ids=[strategy.items[0].id], rationale="Clearer for the audience")
    campaign_strategy.sync(campaign)
    change = campaign.history[-1]
    assert (change.key, change.before, change.after) == ("call_to_action", "Call 1-2-3",
                                                         "Ask three questions, then call 1-2-3")
    assert (change.where, change.reason) == ("Concepts", "Clearer for the audience")
    # Taking the planning workshop out: its decisions leave the strategy, with the reason.
    campaigns.remove_workshop(campaign, w1.id, "Fac")
    gone = [c for c in campaign.history if c.key == "trend"][-1]
    assert gone.after == "" and "taken out" in gone.reason


def test_a_later_decision_of_a_kind_replaces_the_earlier_workshops(setup):
    campaign, w1, w2, idea, women = setup
    from workshop.flow import agenda
    audience = agenda.add_stage(w2, "audience")
    phases.goto_stage(w2, audience.id)
    phases.set_phase(w2, audience.id, "collect")
    parents = add_item(w2, None, {"stage_id": audience.id, "title": "Parents of young women", "age": "45-60"})
    phases.set_phase(w2, audience.id, "vote")
    decide(w2, audience, primary_id=parents.id, rationale="Parents decide")
    assert campaign_strategy.strategy(campaign).summary["primary"].title == "Parents of young women"
    # ...and moving the workshops back in order makes the planning workshop's the later one.
    campaigns.move_workshop(campaign, w2.id, -1, "Fac")
    assert [w.id for w in campaign.workshops] == [w2.id, w1.id]
    assert campaign_strategy.strategy(campaign).summary["primary"].title == women.title
    assert campaign.history[-1].reason == "The campaign's workshops were put in a new order."


def test_workshops_are_added_once_and_only_the_facilitators_own(setup):
    campaign, w1, w2, *_ = setup
    with pytest.raises(Refused, match="already part"):
        campaigns.add_workshop(campaign, w1.id, "Fac")
    theirs = gen_workshop(gen_facilitator("other@example.org"), title="Theirs")
    with pytest.raises(Refused):
        campaigns.add_workshop(campaign, theirs.id, "Fac")
    assert [w.title for w in campaigns.candidates(campaign)] == []


CAMPAIGN_ROUTES = [
    ("GET", "/campaigns/{id}"), ("GET", "/campaigns/{id}/edit"), ("POST", "/campaigns/{id}/delete"),
    ("POST", "/campaigns/{id}/workshops/add"), ("POST", "/campaigns/{id}/workshops/new"),
    ("POST", "/campaigns/{id}/workshops/move"), ("POST", "/campaigns/{id}/workshops/remove"),
    ("GET", "/campaigns/{id}/amend/1"), ("GET", "/campaigns/{id}/questionnaire"),
    ("GET", "/campaigns/{id}/questionnaire.xlsx"), ("POST", "/campaigns/{id}/phones"),
    ("GET", "/campaigns/{id}/surveys"), ("POST", "/campaigns/{id}/surveys/baseline/delete"),
    ("GET", "/campaigns/{id}/results"), ("GET", "/campaigns/{id}/reach"), ("POST",
                                                                           "/campaigns/{id}/reach/import"),
    ("GET", "/campaigns/{id}/indicators.csv"), ("GET", "/campaigns/{id}/indicators.json"),
    ("GET", "/campaigns/{id}/reach.csv"), ("GET", "/campaigns/{id}/report"),
    ("POST", "/campaigns/{id}/report/generate"), ("GET", "/campaigns/{id}/report/status"),
    ("GET", "/campaigns/{id}/report/1.pdf"),
]


def test_every_campaign_route_is_in_the_list_and_guarded(app, setup):
    campaign = setup[0]
    adapter = app.url_map.bind("localhost")
    covered = {adapter.match(path.format(id=campaign.id), method=method)[0] for method,
               path in CAMPAIGN_ROUTES}
    mapped = {rule.endpoint for rule in app.url_map.iter_rules() if "campaign_id" in rule.arguments}
    assert covered == mapped  # a new campaign page must join the list (and so this test)
    signed_out = app.test_client()
    other = app.test_client()
    gen_facilitator("other@example.org", name="Other")
    other.post("/login", data={"email": "other@example.org", "password": PASSWORD})
    for method, path in CAMPAIGN_ROUTES:
        url = path.format(id=campaign.id)
        assert signed_out.open(url, method=method).status_code == 302, url  # to sign in
        assert other.open(url, method=method).status_code == 403, url
    assert other.get("/campaigns/99999").status_code == 404


def test_the_campaign_pages_for_their_owner(setup, client):
    campaign, w1, w2, idea, women = setup
    client.post("/login", data={"email": "fac@example.org", "password": PASSWORD})
    assert "Safe migration" in client.get("/campaigns").get_data(as_text=True)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    for words in ("Planning", "Concepts", "Fake job offers online", "Women 18-25 seeking work abroad",
                  "History of the strategy", "The police see it daily",
                  f"/campaigns/{campaign.id}/amend/{idea.id}"):
        assert words in page, words
    reply = client.post("/campaigns/new", data={"title": "", "language": "en", "page_size": "A4"})
    assert reply.status_code == 200 and "Fill in this field" in reply.get_data(as_text=True)
    reply = client.post("/campaigns/new", data={"title": "Campus safety", "language": "nb",
                                                "page_size": "A4"})
    new = db.session.scalar(db.select(Campaign).where(Campaign.title == "Campus safety"))
    assert reply.status_code == 302 and new.language == "nb"
    reply = client.post(f"/campaigns/{new.id}/workshops/new", data={"title": "Planning",
                                                                    "template": "problem"})
    assert reply.headers["Location"].endswith("/console") and new.workshops[0].language == "nb"
    reply = client.post(f"/campaigns/{new.id}/delete", data={"confirm": "Wrong"})
    assert reply.status_code == 400 and db.session.get(Campaign, new.id) is not None
    reply = client.post(f"/campaigns/{new.id}/delete", data={"confirm": "Campus safety"})
    assert reply.status_code == 302 and db.session.get(Campaign, new.id) is None
    assert db.session.scalar(db.select(StrategyChange).where(StrategyChange.campaign_id == new.id)) is None
