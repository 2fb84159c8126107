"""A whole campaign for the tests and the report benchmark: three linked workshops, a KAP questionnaire,
and a baseline and an endline shaped like KoboToolbox's exports (300 respondents each) with a known
true change.

    build(facilitator, participants=40) -> Campaign     # the workshops, questionnaire, targets, reach
    survey_rows(wave, n=300, seed=...) -> list[dict]     # respondents: question name -> answer name
    kobo_csv(rows) / kobo_xlsx(rows) / odk_csv(rows)     # the same rows as those tools export them

The workshops run through the real rules (workshop/flow/, the kinds' forms); the many votes are
inserted in bulk, valid by construction (as scripts/report_workshop.py does). The KAP items
and their true shares (`ITEMS`) are defined here, independently of the app's statistics.
"""
from __future__ import annotations

import csv
import io
import random
import uuid
from datetime import datetime, timedelta

from sqlalchemy import insert

from tests.actions import add_item, update_settings
from workshop import checks, forms
from workshop.demo import poster
from workshop.extensions import db
from workshop.flow import agenda, campaigns, phases, questionnaire, workshops
from workshop.models import Comment, Vote, utcnow

GROUPS = ["Government", "Civil society", "UN / donor", "Creative partner", "Youth", "Other"]
PROFILE = {
    "title": "Young women 18-25 in the border provinces looking for work abroad online",
    "age": "18-25", "place": "Border provinces", "channels": "TikTok, Facebook groups, friends",
    "knowledge": "Few know that licensed agencies never charge fees. Most do not know the hotline number.",
    "attitudes": "Believe a job offer from a relative is safe. Feel ashamed to ask for help.",
    "practices": "Rarely check an agency's licence. Hand over their passport on arrival.",
}
# (name, section, answers, good, {lang: text}, baseline share, endline share): the true shares.
ITEMS = [
    ("k1", "knowledge", "truefalse", "true", {
        "en": "Licensed recruitment agencies never ask you to pay a fee.",
        "nb": "Godkjente rekrutteringsbyråer ber aldri om gebyr.",
        "sv": "Licensierade rekryteringsbyråer tar aldrig ut en avgift.",
        "mn": "Тусгай зөвшөөрөлтэй агентлаг хэзээ ч хураамж авдаггүй."}, 0.30, 0.50),
    ("k2", "knowledge", "truefalse", "false", {
        "en": "An employer abroad may keep your passport for you.",
        "nb": "En arbeidsgiver i utlandet kan ta vare på passet ditt.",
        "sv": "En arbetsgivare utomlands får förvara ditt pass.",
        "mn": "Гадаадын ажил олгогч таны паспортыг хадгалж болно."}, 0.45, 0.62),
    ("k3", "knowledge", "truefalse", "true", {
        "en": "The hotline 1-2-3 is free and anonymous.",
        "nb": "Hjelpetelefonen 1-2-3 er gratis og anonym.",
        "sv": "Stödlinjen 1-2-3 är gratis och anonym.",
        "mn": "1-2-3 утас үнэгүй, нэрээ хэлэхгүй залгаж болно."}, 0.20, 0.41),
    ("k4", "knowledge", "truefalse", "true", {
        "en": "You can check an agency's licence online.",
        "nb": "Du kan sjekke et byrås lisens på nett.",
        "sv": "Du kan kontrollera en byrås licens på nätet.",
        "mn": "Агентлагийн тусгай зөвшөөрлийг онлайнаар шалгаж болно."}, 0.25, 0.38),
    ("a1", "attitude", "agree5", "disagree", {
        "en": "A job offer from a relative is always safe.",
        "nb": "Et jobbtilbud fra en slektning er alltid trygt.",
        "sv": "Ett jobberbjudande från en släkting är alltid säkert.",
        "mn": "Хамаатны санал болгосон ажил үргэлж аюулгүй."}, 0.40, 0.52),
    ("a2", "attitude", "agree5", "agree", {
        "en": "Asking for help is nothing to be ashamed of.",
        "nb": "Det er ikke skammelig å be om hjelp.",
        "sv": "Det är inget att skämmas för att be om hjälp.",
        "mn": "Тусламж хүсэх нь ичмээр зүйл биш."}, 0.55, 0.63),
    ("a3", "attitude", "agree5", "agree", {
        "en": "Trafficking can happen to people like me.",
        "nb": "Menneskehandel kan ramme folk som meg.",
        "sv": "Människohandel kan drabba människor som jag.",
        "mn": "Хүн худалдаалах гэмт хэрэг над шиг хүнд тохиолдож болно."}, 0.35, 0.48),
    ("p1", "practice", "yesno", "yes", {
        "en": "Did you check the agency's licence before you applied?",
        "nb": "Sjekket du byråets lisens før du søkte?",
        "sv": "Kontrollerade du byråns licens innan du sökte?",
        "mn": "Өргөдөл гаргахаасаа өмнө агентлагийн зөвшөөрлийг шалгасан уу?"}, 0.15, 0.27),
    ("p2", "practice", "often5", "often", {
        "en": "How often do you tell someone where you are going when you meet a recruiter?",
        "nb": "Hvor ofte forteller du noen hvor du skal når du møter en rekrutterer?",
        "sv": "Hur ofta berättar du för någon vart du ska när du träffar en rekryterare?",
        "mn": "Зуучлагчтай уулзахдаа хаашаа явж байгаагаа хэр олон удаа хэлдэг вэ?"}, 0.40, 0.47),
    ("p3", "practice", "yesno", "no", {
        "en": "Have you ever handed your passport to an agent?",
        "nb": "Har du noen gang gitt passet ditt til en agent?",
        "sv": "Har du någon gång lämnat ditt pass till en agent?",
        "mn": "Та паспортоо зуучлагчид өгч байсан уу?"}, 0.70, 0.74),
]
SKIP = 0.04  # the share of each question left unanswered
COMMENTS = ["Easy to remember", "Show the hotline bigger", "Could read as blaming"]
EMBASSY = "Many think the embassy keeps passports."
AMENDED = "The baseline pilot showed a third believe the embassy keeps passports."
SEGMENTS = {"age_band": (["under_18", "18_24", "25_34", "35_plus"], [0.10, 0.50, 0.30, 0.10]),
            "place": (["urban", "rural"], [0.45, 0.55]),
            "gender": (["woman", "man", "another", "no_answer"], [0.80, 0.15, 0.02, 0.03])}
WRONG = {"truefalse": {"true": ["false", "dont_know"], "false": ["true", "dont_know"]},
         "agree5": {"agree": ["strongly_disagree", "disagree", "neutral"],
                    "disagree": ["neutral", "agree", "strongly_agree"]},
         "yesno": {"yes": ["no"], "no": ["yes"]},
         "often5": {"often": ["never", "rarely", "sometimes"]}}
GOOD_ANSWERS = {"true": ["true"], "false": ["false"], "agree": ["agree", "strongly_agree"],
                "disagree": ["disagree", "strongly_disagree"], "yes": ["yes"], "no": ["no"],
                "often": ["often", "always"]}


def _decide(workshop, stage, rationale, minority="", **fields):
    return phases.decide(workshop, checks.parse(forms.DecisionForm, {
        "stage_id": stage.id, "rationale": rationale, "minority_view": minority, **fields}))


def _stage(workshop, kind):
    return next(s for s in workshop.stages if s.kind == kind)


def _bulk(model, rows):
    if rows:
        db.session.execute(insert(model), rows)
        db.session.commit()


def _vote(stage, person, item, value, key, note="", criterion=""):
    return {"stage_id": stage.id, "participant_id": person.id, "item_id": item.id, "criterion": criterion,
            "value": value, "client_id": key, "note": note, "updated_at": utcnow()}


def _people(workshop, n):
    return [workshops.join(workshop, None, "", GROUPS[i % len(GROUPS)]) for i in range(n)]


def _fist(workshop, strategy, people, rng, rationale):
    phases.set_phase(workshop, strategy.id, "vote")
    item = strategy.items[0]
    _bulk(Vote, [_vote(strategy, p, item, rng.choices(range(6), weights=[1, 1, 2, 6, 10, 12])[0], f"s{p.id}",
                       note="Budget still open" if i % 9 == 0 else "") for i, p in enumerate(people)])
    phases.reveal(workshop, strategy.id)
    _decide(workshop, strategy, rationale, "Some wanted more radio.", item_ids=[item.id])


def planning(facilitator, campaign, n, rng):
    """Workshop 1: pick a trend, choose the audience with its profile, agree the strategy."""
    w = campaigns.new_workshop(campaign, facilitator, title="Planning workshop", template="problem")
    agenda.add_stage(w, "strategy")
    people = _people(w, n)
    trend = _stage(w, "trend")
    phases.set_phase(w, trend.id, "collect")
    titles = ["Fake job offers in closed TikTok groups", "Recruiters at bus stations",
              "Debt bondage through travel loans",
              "Visa-free 'tourist' jobs", "Relatives who recruit for agents", "Passports kept by employers"]
    ideas = [add_item(w, people[i % len(people)], {"cid": f"idea-{i:04d}", "title": t,
                                                   "detail": "Seen this year."})
             for i, t in enumerate(titles)]
    phases.set_phase(w, trend.id, "vote")
    _bulk(Vote, [_vote(trend, p, item, 1,
                       f"d{p.id}-{item.id}") for p in people for item in rng.sample(ideas[:4], 2)])
    phases.reveal(w, trend.id)
    _decide(w, trend, "Every group saw it, and the helpline data confirm it.",
            "Youth wanted debt bondage first.", item_ids=[ideas[0].id])
    audience = _stage(w, "audience")
    phases.set_phase(w, audience.id, "collect")
    women = add_item(w, people[0], {"cid": "seg-0001", **PROFILE})
    parents = add_item(w, people[1], {"cid": "seg-0002", "title": "Their parents", "age": "45-60",
                                      "place": "Border provinces",
                                      "knowledge": "Trust agencies with an office."})
    phases.set_phase(w, audience.id, "vote")
    _bulk(Vote, [_vote(audience, p, item, place, f"r{p.id}-{item.id}")
                 for p in people for place, item in enumerate(rng.sample([women, parents], 2), start=1)])
    phases.reveal(w, audience.id)
    _decide(w, audience, "They are recruited most and can be reached online.", "Some wanted parents first.",
            primary_id=women.id, item_ids=[parents.id])
    strategy = _stage(w, "strategy")
    phases.goto_stage(w, strategy.id)
    phases.set_phase(w, strategy.id, "draft")
    update_settings(w, {"stage_id": strategy.id,
                        "call_to_action": "Check the agency, call 1-2-3 before you sign.",
                        "channels": "TikTok, Facebook groups, community radio",
                        "allies": "Bus drivers, shop owners, two influencers",
                        "indicators": "+15 points on knowledge; reach 200,000 young women",
                        "step_what": ["Baseline survey"], "step_who": ["NGO research team"],
                        "step_when": ["March"]})
    _fist(w, strategy, people, rng, "Broad support; the budget is confirmed next week.")
    return w, women


def concept_review(facilitator, campaign, n, rng, images=True):
    """Workshop 2: concepts rated on five criteria, one chosen; the strategy updated."""
    w = campaigns.new_workshop(campaign, facilitator, title="Concept workshop", template="concepts")
    people = _people(w, n)
    concepts = _stage(w, "concepts")
    names = ["Ask three questions", "Your passport stays with you", "Call before you go"]
    colours = [(59, 46, 163), (194, 65, 12), (21, 115, 71)]
    cards = [add_item(w, None, {"stage_id": concepts.id, "title": t,
                                "message": f"{t}: before you sign anything.",
                                "detail": "Short videos and posters where the audience passes.",
                                "channel": "TikTok"},
                      upload=poster(t, colours[i]) if images else None) for i, t in enumerate(names)]
    phases.goto_stage(w, concepts.id)
    phases.set_phase(w, concepts.id, "vote")
    criteria = ["clear", "relevant", "appealing", "fitting", "action"]
    _bulk(Vote, [_vote(concepts, p, card, rng.randint(2, 5), f"c{p.id}-{card.id}-{c}", criterion=c)
                 for p in people for card in cards for c in criteria])
    _bulk(Comment, [{"stage_id": concepts.id, "item_id": cards[i % 3].id, "participant_id": p.id,
                     "client_id": f"k{p.id}", "tag": ["keep", "change", "concern"][i % 3],
                     "text": f"{COMMENTS[i % 3]} [{i}]",
                     "created_at": utcnow()} for i, p in enumerate(people)])
    phases.reveal(w, concepts.id)
    _decide(w, concepts, "Clearest call to action in every group.",
            "Two partners preferred the passport concept.",
            item_ids=[cards[0].id])
    strategy = _stage(w, "strategy")
    phases.goto_stage(w, strategy.id)
    phases.set_phase(w, strategy.id, "draft")
    update_settings(w, {"stage_id": strategy.id, "call_to_action": "Ask three questions, then call 1-2-3.",
                        "channels": "TikTok, Facebook groups, community radio, posters at bus stations"})
    _fist(w, strategy, people, rng, "The concept fits the audience; radio stays.")
    return w


def draft_review(facilitator, campaign, n, rng):
    """Workshop 3: drafts approved, approved with changes or rejected."""
    w = campaigns.new_workshop(campaign, facilitator, title="Draft review", template="drafts")
    people = _people(w, n)
    drafts = _stage(w, "drafts")
    pieces = [("30-second video script", "TikTok"), ("Bus-stop poster", "Print"), ("Radio spot", "Radio"),
              ("Chatbot opening lines", "Messenger")]
    sheets = [add_item(w, None, {"stage_id": drafts.id, "title": t, "channel": c,
                                 "detail": "A phone buzzes: 'Hotel job, great pay, leave Friday!' "
                                           "She stops and asks."})
              for t, c in pieces]
    phases.goto_stage(w, drafts.id)
    phases.set_phase(w, drafts.id, "vote")
    changes = ["Bigger hotline number", "Subtitles in the local language", "Shorter last line"]
    rows = []
    for i, p in enumerate(people):
        for sheet in sheets:
            value = rng.choices([2, 1, 0], weights=[6, 3, 1])[0]
            rows.append(_vote(drafts, p, sheet, value, f"v{p.id}-{sheet.id}",
                              note="" if value == 2 else f"{changes[(i + value) % 3]} [{i}]"))
    _bulk(Vote, rows)
    phases.reveal(w, drafts.id)
    _decide(w, drafts, "Video and poster go ahead with the changes.", "Police asked to drop the chatbot.",
            verdicts=[f"{sheets[0].id}:changes", f"{sheets[1].id}:approved", f"{sheets[2].id}:changes",
                      f"{sheets[3].id}:rejected"])
    strategy = _stage(w, "strategy")
    phases.goto_stage(w, strategy.id)
    phases.set_phase(w, strategy.id, "draft")
    _fist(w, strategy, people, rng, "Ready for the pre-test and launch.")
    return w


def write_questionnaire(campaign):
    """Start the questionnaire from the profile, then rewrite it as ITEMS says (every language)."""
    questionnaire.start(campaign)
    for q in list(campaign.questions):
        if q.section != "segment":
            campaign.questions.remove(q)
    db.session.commit()
    for name, section, answers, good, labels, _base, _end in ITEMS:
        q = questionnaire.add_question(campaign, section)
        q.name, q.answers, q.labels, q.draft = name, answers, labels, False
        q.good = list(GOOD_ANSWERS[good])
    db.session.commit()


def build(facilitator, participants: int = 40, seed: int = 11, images: bool = True, surveys: int = 300):
    """Create a whole campaign: three workshops, an amendment, the questionnaire, targets, reach, surveys."""
    from workshop import kapimport, reach
    rng = random.Random(seed)
    campaign = campaigns.create_campaign(facilitator, title="Safe migration 2027",
                                         topic="Trafficking in persons",
                                         description="Three workshops, a baseline and an endline survey.",
                                         org_name="Coalition against Trafficking")
    w1, women = planning(facilitator, campaign, participants, rng)
    w2 = concept_review(facilitator, campaign, participants, rng, images=images)
    campaigns.amend(campaign, women, checks.parse(_audience_form(), {
        **{k: women.field(k) for k in ("age", "place", "channels", "attitudes", "practices")},
        "title": women.title, "knowledge": PROFILE["knowledge"] + " " + EMBASSY}),
        reason=AMENDED, author=facilitator.name, workshop_id=w2.id)
    draft_review(facilitator, campaign, participants, rng)
    write_questionnaire(campaign)
    campaign.targets = {"score.knowledge": {"kind": "change", "value": 15.0},
                        "item.k1": {"kind": "level", "value": 70.0},
                        "score.attitude": {"kind": "change", "value": 10.0}}
    db.session.commit()
    reach.save(campaign, [reach.Channel("TikTok", {"impressions": 26_400_000, "reach": 180_000,
                                                   "comments": 3_100,
                                                   "shares": 12_500}, {"reach": 150_000,
                                                                       "impressions": 20_000_000}),
                          reach.Channel("Facebook groups", {"reach": 45_000, "comments": 800,
                                                            "shares": 1_900},
                                        {"reach": 50_000}),
                          reach.Channel("Chatbot", {"chatbot": 4_200}, {"chatbot": 5_000}),
                          reach.Channel("Hotline", {"hotline": 1_350}, {"hotline": 1_000})], facilitator.name)
    if surveys:
        for wave, wave_seed in (("baseline", seed), ("endline", seed + 1)):
            kapimport.import_survey(campaign, wave, kobo_csv(survey_rows(wave, surveys, wave_seed)),
                                    f"kobo-{wave}.csv", facilitator.name)
    db.session.expire_all()
    return campaign


def _audience_form():
    from workshop.stages import KINDS
    return KINDS["audience"].ItemForm


# --- the surveys ---------------------------------------------------------------------------

def survey_rows(wave: str, n: int = 300, seed: int = 1) -> list[dict]:
    """Return n respondents' answers (question name -> answer name; skipped questions absent).

    The chance of a good answer is the item's true share for the wave, lower for rural
    respondents and those under 18 (a segment effect), and the same change in every segment.
    """
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        row = {}
        for name, (values, weights) in SEGMENTS.items():
            if rng.random() > SKIP / 2:
                row[name] = rng.choices(values, weights)[0]
        shift = -0.08 if row.get("place") == "rural" else 0.06
        shift -= 0.06 if row.get("age_band") == "under_18" else 0
        for name, _section, answers, good, _labels, base, end in ITEMS:
            if rng.random() < SKIP:
                continue
            p = min(max((base if wave == "baseline" else end) + shift, 0.02), 0.98)
            if rng.random() < p:
                row[name] = rng.choice(GOOD_ANSWERS[good])
            else:
                row[name] = rng.choice(WRONG[answers][good])
        rows.append(row)
    return rows


def _paths():
    groups = {"segment": "respondent", "knowledge": "knowledge", "attitude": "attitudes",
              "practice": "practices"}
    return [(name, f"respondent/{name}") for name in SEGMENTS] + [(name, f"{groups[section]}/{name}")
                                                                   for name, section, *_rest in ITEMS]


KOBO_META = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by",
             "__version__", "_tags", "_index"]


def kobo_table(rows: list[dict]) -> list[list]:
    """Return the rows as KoboToolbox's export lays them out: start, end, the questions by path, its meta."""
    paths = _paths()
    header = ["start", "end", "today", "deviceid", *[path for _name, path in paths], *KOBO_META]
    table = [header]
    when = datetime(2027, 3, 1, 9, 0)
    for i, row in enumerate(rows):
        start = when + timedelta(minutes=7 * i)
        table.append([start.isoformat() + ".000+03:00",
                      (start + timedelta(minutes=6)).isoformat() + ".000+03:00",
                      start.date().isoformat(), f"collect:{i % 7:04d}",
                      *[row.get(name, "") for name, _path in paths],
                      100000 + i, str(uuid.UUID(int=random.Random(i * 7919 + len(rows)).getrandbits(128))),
                      (start + timedelta(minutes=9)).isoformat(), "", "", "submitted_via_web", "", "vGvW4",
                      "", i + 1])
    return table


def kobo_csv(rows: list[dict]) -> bytes:
    """Return the rows as KoboToolbox's CSV export: semicolons, quoted, UTF-8."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerows(kobo_table(rows))
    return out.getvalue().encode("utf-8")


def kobo_xlsx(rows: list[dict]) -> bytes:
    """Return the rows as KoboToolbox's XLSX export (one sheet, numbers as numbers)."""
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "Safe migration KAP"
    for line in kobo_table(rows):
        sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def odk_csv(rows: list[dict]) -> bytes:
    """Return the rows as ODK Central's CSV export: commas, `group-name` headers, its meta columns."""
    paths = [(name, path.replace("/", "-")) for name, path in _paths()]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["SubmissionDate", *[p for _n, p in paths], "meta-instanceID", "KEY", "SubmitterID",
                     "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState",
                     "DeviceID", "Edits", "FormVersion"])
    for i, row in enumerate(rows):
        key = f"uuid:{uuid.UUID(int=random.Random(i).getrandbits(128))}"
        writer.writerow([f"2027-03-01T09:{i % 60:02d}:00.000Z", *[row.get(n, "") for n, _p in paths], key,
                         key, 5,
                         "enumerator", 0, 0, "", "", "", 0, "1"])
    return out.getvalue().encode("utf-8")
