"""The KAP questionnaire: drafted from the audience's profile, edited row by row in every language (errors
keyed by row, nothing half-saved), offered in one neutral form; and the targets of the indicators."""
from __future__ import annotations

import re

import pytest

from tests.conftest import gen_facilitator
from tests.test_campaigns import planning
from workshop import kapform, kapresults
from workshop.extensions import db
from workshop.flow import campaigns, questionnaire
from workshop.i18n import LANGUAGES

PASSWORD = "correct horse battery"


@pytest.fixture
def campaign(app):
    facilitator = gen_facilitator()
    campaign = campaigns.create_campaign(facilitator, title="Safe migration", language="en")
    w1, _idea, women = planning(facilitator)
    campaigns.add_workshop(campaign, w1.id, facilitator.name)
    return campaign


def form_of(campaign) -> dict:
    """Return the editor's fields as the page fills them in (what a browser posts back)."""
    out = {}
    for q in campaign.questions:
        key = f"q{q.id}"
        out.update({f"{key}.label.{lang}": (q.labels or {}).get(lang, "") for lang in LANGUAGES})
        if q.section == "segment":
            for n, c in enumerate(q.choices):
                out[f"{key}.c{n}.name"] = c["name"]
                out.update({f"{key}.c{n}.{lang}": c["labels"].get(lang, "") for lang in LANGUAGES})
        else:
            out[f"{key}.answers"], out[f"{key}.good"] = q.answers, kapform.good_key(q)
    return out


def test_starting_drafts_the_items_from_the_profile_and_adds_the_segments(campaign):
    questionnaire.start(campaign)
    segments = [q for q in campaign.questions if q.section == "segment"]
    assert [q.name for q in segments] == ["age_band", "place", "gender"]
    assert all(set(q.labels) == set(LANGUAGES) for q in segments)  # every language, from the catalogues
    gender = next(q for q in segments if q.name == "gender")
    assert gender.labels["nb"] != gender.labels["en"] and gender.labels["mn"] != gender.labels["en"]
    drafts = [q for q in campaign.questions if q.draft]
    assert [(q.section, q.name, q.labels, q.good) for q in drafts] == [
        ("knowledge", "k1", {"en": "Few know the licence check."}, [])]
    assert questionnaire.draft_from_profile(campaign) == 0  # each statement drafted once
    assert kapform.missing_labels(drafts[0]) == ["nb", "sv", "mn"]


def test_the_neutral_form_has_every_question_with_its_choices_and_languages(campaign):
    questionnaire.start(campaign)
    k1 = next(q for q in campaign.questions if q.name == "k1")
    k1.good = ["true"]
    db.session.commit()
    form = kapform.questions(campaign)
    assert [q.name for q in form] == ["age_band", "place", "gender", "k1"]
    q = form[-1]
    assert (q.type, q.group, q.path) == ("select_one truefalse", "knowledge", "knowledge/k1")
    assert q.required is False and q.good == ("true",)
    assert [c.name for c in q.choices] == ["true", "false", "dont_know"]
    assert {c.labels["sv"] for c in q.choices} == {"Sant", "Falskt", "Vet inte"}
    assert kapform.columns(q) == ("knowledge/k1", "knowledge-k1", "k1")
    assert form[0].type == "select_one age_band" and form[0].choices[0].labels["mn"] == "18-аас доош"


def test_saving_every_row_at_once_and_nothing_when_one_is_wrong(campaign, client):
    questionnaire.start(campaign)
    client.post("/login", data={"email": "fac@example.org", "password": PASSWORD})
    k1 = next(q for q in campaign.questions if q.name == "k1")
    place = next(q for q in campaign.questions if q.name == "place")
    fields = form_of(campaign)
    fields.update({f"q{k1.id}.label.en": "Licensed agencies never charge a fee.", f"q{k1.id}.good": "true",
                   f"q{k1.id}.label.nb": "Godkjente byråer tar aldri gebyr.",
                   f"q{place.id}.c1.name": "urban", f"q{place.id}.label.sv": "x" * 501})
    reply = client.post(f"/campaigns/{campaign.id}/questionnaire", data={**fields, "action": "save"})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400 and "Nothing was saved" in html
    assert "At most 500 characters." in html and "each name once" in html
    assert "Licensed agencies never charge a fee." in html  # what was typed comes back
    db.session.expire_all()
    assert k1.labels == {"en": "Few know the licence check."} and k1.good == [] and k1.draft
    fields[f"q{place.id}.c1.name"], fields[f"q{place.id}.label.sv"] = "rural", "Var bor du?"
    fields[f"q{place.id}.c2.name"], fields[f"q{place.id}.c2.en"] = "", "In a camp"  # a new answer, named
    reply = client.post(f"/campaigns/{campaign.id}/questionnaire", data={**fields, "action": "save"})
    assert reply.status_code == 302
    db.session.expire_all()
    assert k1.good == ["true"] and not k1.draft and k1.labels["nb"] == "Godkjente byråer tar aldri gebyr."
    assert [c["name"] for c in place.choices] == ["urban", "rural", "in_a_camp"]


def test_the_editors_buttons_add_move_and_remove_items_after_saving(campaign, client):
    questionnaire.start(campaign)
    client.post("/login", data={"email": "fac@example.org", "password": PASSWORD})
    url = f"/campaigns/{campaign.id}/questionnaire"
    for section in ("knowledge", "attitude", "practice", "attitude"):
        assert client.post(url, data={**form_of(campaign), "action": f"add:{section}"}).status_code == 302
        db.session.expire_all()
    names = [q.name for q in sorted(campaign.questions, key=lambda q: (q.section, q.position))]
    assert {"k1", "k2", "a1", "a2", "p1"} <= set(names)
    a2 = next(q for q in campaign.questions if q.name == "a2")
    client.post(url, data={**form_of(campaign), "action": f"move:{a2.id}:-1"})
    db.session.expire_all()
    attitudes = sorted((q for q in campaign.questions if q.section == "attitude"), key=lambda q: q.position)
    assert [q.name for q in attitudes] == ["a2", "a1"]
    p1 = next(q for q in campaign.questions if q.name == "p1")
    fields = {**form_of(campaign), f"q{p1.id}.answers": "often5", f"q{p1.id}.good": "yes"}
    client.post(url, data={**fields, "action": "save"})  # another answer list: what counts is chosen again
    db.session.expire_all()
    assert p1.answers == "often5" and p1.good == []
    client.post(url, data={**form_of(campaign), f"q{p1.id}.good": "often", "action": "save"})
    db.session.expire_all()
    assert p1.good == ["often", "always"]
    client.post(url, data={**form_of(campaign), "action": f"remove:{p1.id}"})
    db.session.expire_all()
    assert "p1" not in [q.name for q in campaign.questions]
    page = client.get(url).get_data(as_text=True)
    assert "knowledge/k1" in page and re.search(r"Missing in: Norsk bokmål, Svenska, Монгол", page)


def test_targets_are_set_per_indicator_and_kept_in_the_history(campaign, client):
    questionnaire.start(campaign)
    k1 = next(q for q in campaign.questions if q.name == "k1")
    k1.good = ["true"]
    db.session.commit()
    client.post("/login", data={"email": "fac@example.org", "password": PASSWORD})
    url = f"/campaigns/{campaign.id}/results"
    page = client.get(url).get_data(as_text=True)
    assert 'name="t.score.knowledge.value"' in page and 'name="t.item.k1.value"' in page
    reply = client.post(url, data={"t.score.knowledge.kind": "change", "t.score.knowledge.value": "+15",
                                   "t.item.k1.kind": "level", "t.item.k1.value": "170"})
    assert reply.status_code == 400 and "Between 0 and 100." in reply.get_data(as_text=True)
    assert campaign.targets == {}
    client.post(url, data={"t.score.knowledge.kind": "change", "t.score.knowledge.value": "15",
                           "t.item.k1.kind": "level", "t.item.k1.value": "70,5"})
    db.session.expire_all()
    assert campaign.targets == {"score.knowledge": {"kind": "change", "value": 15.0},
                                "item.k1": {"kind": "level", "value": 70.5}}
    recorded = {c.key: (c.label, c.before, c.after) for c in campaign.history if c.key.startswith("target.")}
    assert recorded["target.score.knowledge"] == ("Target: Knowledge score", "", "+15.0")
    assert recorded["target.item.k1"][2] == "≥ 70.5%"
    ind = next(i for i in kapresults.results(campaign) if i.key == "score.knowledge" and i.segment is None)
    assert ind.target == {"kind": "change", "value": 15.0} and ind.target_reached() is None  # no surveys yet
