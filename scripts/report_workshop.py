"""A realistic finished workshop for the report's tests and benchmark: `build(facilitator, scale)`.

scale=1: 100 participants, 30+ trend ideas (some merged, some hidden), 8 audiences, 4 concepts
with images, 4 drafts, 200+ comments and a fist-of-five with concerns. Ideas, merges, hides,
phases and decisions go through workshop/flow/ and events.py (the real rules); the thousands of
votes and comments are inserted in bulk, valid by construction, so building stays fast. `Truth` holds what the
report must show, counted here independently of voting.py.
"""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import insert

from tests.actions import add_item, update_settings
from workshop import checks, forms
from workshop.demo import poster
from workshop.extensions import db
from workshop.flow import items, phases, workshops
from workshop.models import Comment, Participant, Vote, utcnow
from workshop.stages import kind_of

GROUPS = ["Government", "Civil society", "UN / donor", "Creative partner", "Youth", "Police"]
WHO = ["Young women", "Rural families", "Returning migrants", "Students", "Recruiters", "Bus drivers",
       "Shop owners", "Parents", "Teachers", "Community leaders"]
WHAT = ["answer job adverts in closed chat groups", "pay upfront fees to unlicensed agents",
        "travel on tourist visas to work", "hand over passports on arrival", "trust offers from relatives",
        "borrow money to pay for travel", "sign contracts in a language they cannot read",
        "are recruited after the harvest", "skip the helpline because of shame", "share fake success stories"]
COMMENTS = [
    ("keep", "The three questions are easy to remember and to repeat to a friend."),
    ("keep", "Showing a real young woman instead of a cartoon makes it credible."),
    ("change", "Use the words people actually use for these jobs, not official terms."),
    ("change", "Put the helpline number larger: at a bus stop people only glance."),
    ("concern", "Families might read this as blaming the women who were deceived."),
    ("concern", "The colours are those of a political party in the northern provinces."),
    ("keep", "Radio reaches the villages where phones are shared by the whole family."),
    ("change", "Subtitles are needed for people who watch without sound."),
]
# Comments in other scripts the report's fonts must render (Norwegian, Mongolian Cyrillic).
FOREIGN = [
    ("keep", "Budskapet er tydelig, og jentene på skolen forstår det med én gang. Blåbærsyltetøy og øl."),
    ("concern", "Энэ мессеж нь залуу эмэгтэйчүүдэд ойлгомжтой боловч гэр бүлийнхэн нь "
                "өөрөөр ойлгож магадгүй."),
    ("change", "Siste setning bør være kortere: «Ring først, reis etterpå»."),
]
CHANGES = ["Make the helpline number bigger", "Add subtitles in the local language",
           "Show an older woman too, not only students", "Shorter: the last line is lost",
           "Remove the police logo: it scares people away", "Say the call is free and anonymous"]
LONG_WORD = "https://example.org/" + "verylongunbrokenlinkwithoutanyspaces" * 6


@dataclass
class Truth:
    """What the report must contain, counted by the generator itself."""

    workshop: object
    ideas: list[str] = field(default_factory=list)          # every item title, every stage
    comments: list[str] = field(default_factory=list)       # every comment and vote note
    decisions: list[str] = field(default_factory=list)      # rationales and minority views
    dots: dict[str, int] = field(default_factory=dict)      # trend idea -> dots
    points: dict[str, int] = field(default_factory=dict)    # audience -> Borda points
    verdicts: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # draft -> approve/changes/reject
    fist: list[int] = field(default_factory=list)           # how many gave 0..5
    raters: dict[str, int] = field(default_factory=dict)    # concept -> how many rated
    means: dict[str, float] = field(default_factory=dict)   # concept -> mean of all its ratings
    names: list[str] = field(default_factory=list)          # participants' names (named workshops)


def _stage(workshop, kind):
    """Return the workshop's first stage of a kind."""
    return next(s for s in workshop.stages if s.kind == kind)


def _decide(workshop, stage, rationale, minority="", **fields):
    """Record a decision through the console's form and phases.decide."""
    return phases.decide(workshop, checks.parse(forms.DecisionForm, {
        "stage_id": stage.id, "rationale": rationale, "minority_view": minority, **fields}))


def _vote(stage, person, item, value, key, note="", criterion="", at=None):
    """Return one Vote row for a bulk insert."""
    return {"stage_id": stage.id, "participant_id": person.id, "item_id": item.id, "criterion": criterion,
            "value": value, "client_id": key, "note": note, "updated_at": at or utcnow()}


def _bulk(model, rows):
    """Insert many rows in one statement and commit."""
    if rows:
        db.session.execute(insert(model), rows)
        db.session.commit()


def build(facilitator, scale: int = 1, seed: int = 7, collect_names: bool = False,
          title: str = "Safe labour migration: campaign planning") -> Truth:
    """Create and run a whole campaign workshop; return what its report must show."""
    rng = random.Random(seed)
    workshop = workshops.create_workshop(
        facilitator, title=title, topic="Trafficking in persons", collect_names=collect_names,
        groups=GROUPS, description="Ministries, police, NGOs, youth representatives and the creative "
                                   "agency plan a campaign against deceptive recruitment.")
    workshop.org_name = "Coalition against Trafficking"
    db.session.commit()
    truth = Truth(workshop=workshop)
    people = []
    for i in range(100 * scale):
        name = f"Person {i:04d}" if collect_names else ""
        people.append(workshops.join(workshop, None, name, GROUPS[i % len(GROUPS)]))
        if name:
            truth.names.append(name)
    now = utcnow()

    # Pick a trend: ideas, 3 merges, 2 hidden, 3 dots each, a decision.
    trend = _stage(workshop, "trend")
    phases.set_phase(workshop, trend.id, "collect")
    ideas = []
    for i in range(32 * scale):
        text = f"{WHO[i % len(WHO)]} {WHAT[(i * 3 + i // len(WHO)) % len(WHAT)]} (#{i + 1})"
        ideas.append(add_item(workshop, people[i % len(people)], {"cid": f"idea-{i:05d}", "title": text,
                                                                        "detail": "Seen in the last year."}))
    ideas.append(add_item(workshop, people[0], {
        "cid": "idea-long", "title": "Links shared without context", "detail": LONG_WORD}))
    truth.ideas += [item.title for item in ideas]
    for source, target in ((ideas[3], ideas[2]), (ideas[7], ideas[2]), (ideas[12], ideas[11])):
        items.merge_items(workshop, source.id, target.id)
    for item in (ideas[20], ideas[21]):
        items.hide_item(workshop, item.id, True)
    phases.set_phase(workshop, trend.id, "vote")
    active = [item for item in ideas if item.active]
    rows, dots = [], Counter()
    for person in people:
        for item in rng.sample(active[:12], 3):  # a few favourites get most of the dots
            rows.append(_vote(trend, person, item, 1, f"d{person.id}-{item.id}", at=now))
            dots[item.title] += 1
    _bulk(Vote, rows)
    truth.dots = {item.title: dots[item.title] for item in active}
    phases.reveal(workshop, trend.id)
    top = max(active, key=lambda item: dots[item.title])
    _decide(workshop, trend, "It came up in every group and the helpline data confirm it.",
            "Youth representatives would rather tackle debt bondage first.", item_ids=[top.id])
    truth.decisions += [trend.rationale, trend.minority_view]

    # Choose the audience: 8 segments with a profile, top-3 ranking.
    audience = _stage(workshop, "audience")
    phases.set_phase(workshop, audience.id, "collect")
    segments = []
    for i in range(8 * scale):
        segments.append(add_item(workshop, people[i], {
            "cid": f"seg-{i:05d}", "title": f"{WHO[i % len(WHO)]} in the two border provinces ({i + 1})",
            "age": f"{16 + i}-{25 + i}", "place": "Border provinces", "channels": "Facebook, radio, friends",
            "knowledge": "Know trafficking exists, not how recruiters work.",
            "attitudes": "Believe it happens to others.", "practices": "Accept offers from acquaintances."}))
    truth.ideas += [s.title for s in segments]
    phases.set_phase(workshop, audience.id, "vote")
    rows, points = [], Counter()
    for person in people:
        for place, item in enumerate(rng.sample(segments[:6], 3), start=1):
            rows.append(_vote(audience, person, item, place, f"r{person.id}-{item.id}", at=now))
            points[item.title] += 4 - place
    _bulk(Vote, rows)
    truth.points = {s.title: points[s.title] for s in segments}
    phases.reveal(workshop, audience.id)
    ranked = sorted(segments, key=lambda s: -points[s.title])
    _decide(workshop, audience, "They are recruited most and can be reached online.",
            "Some wanted parents first: they often push for the job.",
            primary_id=ranked[0].id, item_ids=[ranked[1].id])
    truth.decisions += [audience.rationale, audience.minority_view]

    # Review concepts: 4 concepts with images, 5 criteria, 200+ tagged comments.
    concepts = _stage(workshop, "concepts")
    colours = [(59, 46, 163), (194, 65, 12), (21, 115, 71), (14, 116, 144)]
    names = ["Ask three questions", "Your passport stays with you", "Call before you go",
             "Real jobs, real contracts"]
    cards = [add_item(workshop, None, {
        "stage_id": concepts.id, "title": title, "message": f"{title}: the message in one line.",
        "detail": "Posters and short videos for the places the audience passes every day.",
        "channel": "Posters, TikTok, radio"}, upload=poster(title, colours[i]))
        for i, title in enumerate(names)]
    truth.ideas += names
    phases.goto_stage(workshop, concepts.id)
    phases.set_phase(workshop, concepts.id, "vote")
    rows, comments, raters, ratings = [], [], Counter(), defaultdict(list)
    criteria = [key for key, _label in kind_of(concepts).criteria]
    for n, person in enumerate(people):
        for card in cards:
            if rng.random() < 0.9:
                raters[card.title] += 1
                for criterion in criteria:
                    ratings[card.title].append(rng.randint(2, 5))
                    rows.append(_vote(concepts, person, card, ratings[card.title][-1],
                                      f"c{person.id}-{card.id}-{criterion}", criterion=criterion, at=now))
        for k in range(2):
            tag, text = COMMENTS[(n + k) % len(COMMENTS)]
            comments.append({"stage_id": concepts.id, "item_id": cards[(n + k) % len(cards)].id,
                             "participant_id": person.id, "client_id": f"k{person.id}-{k}", "tag": tag,
                             "text": f"{text} [{n}-{k}]", "created_at": now})
    for k, (tag, text) in enumerate([*FOREIGN, ("change", LONG_WORD)]):
        comments.append({"stage_id": concepts.id, "item_id": cards[k % len(cards)].id,
                         "participant_id": people[k].id, "client_id": f"f{k}", "tag": tag, "text": text,
                         "created_at": now})
    _bulk(Vote, rows)
    _bulk(Comment, comments)
    truth.comments += [c["text"] for c in comments]
    truth.raters = dict(raters)
    truth.means = {title: sum(values) / len(values) for title, values in ratings.items()}
    phases.reveal(workshop, concepts.id)
    _decide(workshop, concepts, "Highest on clarity and call to action in every group.",
            "Two partners found the second concept more striking.", item_ids=[cards[0].id])
    truth.decisions += [concepts.rationale, concepts.minority_view]

    # Vote on drafts: approve / with changes (a reason) / reject (a reason).
    drafts = _stage(workshop, "drafts")
    pieces = [("30-second video script", "TikTok / Reels"), ("Bus-stop poster", "Print, 120 x 175 cm"),
              ("Radio spot", "Community radio, 45 s"), ("Chatbot opening lines", "Messenger")]
    sheets = [add_item(workshop, None, {
        "stage_id": drafts.id, "title": title, "channel": channel,
        "detail": "A phone buzzes: 'Hotel job in the city, great pay, leave Friday!'\nShe pauses and asks."},
        upload=poster(title, colours[i]) if i < 2 else None) for i, (title, channel) in enumerate(pieces)]
    truth.ideas += [title for title, _channel in pieces]
    phases.goto_stage(workshop, drafts.id)
    phases.set_phase(workshop, drafts.id, "vote")
    rows, tally = [], defaultdict(lambda: [0, 0, 0])
    for n, person in enumerate(people):
        for sheet in sheets:
            value = rng.choices([2, 1, 0], weights=[6, 3, 1])[0]
            note = "" if value == 2 else f"{CHANGES[(n + value) % len(CHANGES)]} [{n}]"
            rows.append(_vote(drafts, person, sheet, value, f"v{person.id}-{sheet.id}", note=note, at=now))
            tally[sheet.title][2 - value] += 1
            if note:
                truth.comments.append(note)
    _bulk(Vote, rows)
    truth.verdicts = {title: tuple(counts) for title, counts in tally.items()}
    phases.reveal(workshop, drafts.id)
    _decide(workshop, drafts, "The video and poster work with the changes asked for.",
            "The police asked to drop the chatbot altogether.",
            verdicts=[f"{sheets[0].id}:changes", f"{sheets[1].id}:approved", f"{sheets[2].id}:changes",
                      f"{sheets[3].id}:rejected"])
    truth.decisions += [drafts.rationale, drafts.minority_view]

    # Agreed strategy: written live, then a fist-of-five with a few concerns.
    strategy = _stage(workshop, "strategy")
    phases.goto_stage(workshop, strategy.id)
    phases.set_phase(workshop, strategy.id, "draft")
    update_settings(workshop, {
        "stage_id": strategy.id, "call_to_action": "Ask three questions and call 1-2-3 before you sign.",
        "channels": "TikTok, community radio, posters at bus stations",
        "allies": "Bus drivers, shop owners, the police, two influencers",
        "indicators": "Reach 200,000; helpline calls up 20%; KAP change at endline",
        "step_what": ["Brief the agency", "Pre-test with 20 young women"],
        "step_who": ["NGO lead", "Youth rep"], "step_when": ["Next week", "March"]})
    phases.set_phase(workshop, strategy.id, "vote")
    item = strategy.items[0]
    rows, fist = [], [0] * 6
    for n, person in enumerate(people):
        value = rng.choices(range(6), weights=[1, 1, 2, 6, 10, 12])[0]
        note = f"Support {value}: we need the budget confirmed [{n}]" if n % 7 == 0 or value <= 2 else ""
        rows.append(_vote(strategy, person, item, value, f"s{person.id}", note=note, at=now))
        fist[value] += 1
        if note:
            truth.comments.append(note)
    _bulk(Vote, rows)
    truth.fist = fist
    phases.reveal(workshop, strategy.id)
    _decide(workshop, strategy, "Broad support; concerns about the budget are taken into the next steps.",
            "A few asked for a longer pre-test.", item_ids=[item.id])
    truth.decisions += [strategy.rationale, strategy.minority_view]
    db.session.expire_all()
    return truth


__all__ = ["Truth", "build", "LONG_WORD", "FOREIGN", "Participant"]
