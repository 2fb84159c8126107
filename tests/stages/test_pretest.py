"""Pre-test with the target group: materials, answers on five 5-point scales, coding, figures with Wilson
intervals per material and segment, the decision, the strategy, the report, exports,
    XLSForm and field imports.

The figures are checked against an independent computation (`wilson_ref`, the closed form solved as
a quadratic, written apart from workshop/stats.py) on a session like the held-out one: two alternative
posters, 20 participants in three segments, open answers in Mongolian and English.
"""
from __future__ import annotations

import csv
import io
import math
import re
import zipfile

import pytest
from pyxform.xls2xform import convert

from tests.conftest import add_item, cast_vote, decide, gen_facilitator, gen_workshop, goto, screens
from workshop import events, exports, report, xlsform
from workshop.errors import Refused
from workshop.extensions import db
from workshop.flow import phases, workshops
from workshop.models import Participant, Vote
from workshop.stages import KINDS

DIMS = ("attraction", "comprehension", "acceptability", "involvement", "persuasion")


def sample_vote(item_id: int, n: int) -> dict:
    """A vote on the n-th of two items, for the family tests of every kind (test_kinds.py)."""
    return {"item_id": item_id, "attraction": 5 - n, "comprehension": 4, "said": f"It says {n}"}


def wilson_ref(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson interval as the roots of (p̂ - p)² = z² p (1 - p) / n, solved for p."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    a = 1 + z * z / n
    b = -(2 * p + z * z / n)
    c = p * p
    root = math.sqrt(b * b - 4 * a * c)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


def pct(x: float) -> int:
    return int(math.floor(x * 100 + 0.5))


# The held-out-like session: segment (age band) per participant, and each one's scores per poster.
AGES = ["15-17"] * 6 + ["18-24"] * 8 + ["25-34"] * 6
SAID = {0: "Ажлын санал хуурамч байж болно", 1: "It tells me to check the job offer",
        2: "Гадаад руу явахгүй байх", 3: "Not sure what they want"}


def scores(person: int, poster: int) -> dict:
    """Deterministic, varied answers: poster B (1) does better on comprehension."""
    base = (person * 7 + poster * 3) % 5 + 1
    out = {d: ((base + i + poster * (i == 1)) % 5) + 1 for i, d in enumerate(DIMS)}
    if person % 9 == 4:
        out.pop("persuasion")  # a skipped question: n differs per dimension
    return out


@pytest.fixture
def session(app):
    """A pre-test workshop: two posters, 20 joined phones in three age segments, all answered and coded."""
    w = gen_workshop(template="pretest", title="Poster pre-test", language="en")
    w.segment_questions = {"age": ["15-17", "18-24", "25-34"]}
    w.helpline = "Hotline 108 (free)"
    db.session.commit()
    stage = w.stages[0]
    a = add_item(w, None, {"stage_id": stage.id, "title": "Poster A",
                           "detail": "Check the job. Call 1800 1234"})
    b = add_item(w, None, {"stage_id": stage.id, "title": "Poster B", "detail": "Ask three questions"})
    phases.set_phase(w, stage.id, "vote")
    people = []
    for n, age in enumerate(AGES):
        person = workshops.join(w, None, "", "", consent=True, segment_answers={"age": age})
        people.append(person)
        for poster, item in enumerate((a, b)):
            payload = {"cid": f"p{n:02d}-{poster}-answers", "item_id": item.id, **scores(n, poster),
                       "said": SAID[(n + poster) % 4]}
            if n == 3:
                payload["change"] = "Write to me at girl@example.org or call 9911 2233"
            cast_vote(w, person, payload)
    for n, person in enumerate(people):  # the facilitator codes every open answer
        for poster, item in enumerate((a, b)):
            code = ("understood", "partly", "misunderstood")[(n + poster) % 3] if n % 4 else "understood"
            events.run("answer:code", w, None, {"stage_id": stage.id, "item_id": item.id,
                                               "participant_id": person.id, "code": code})
    return w, stage, (a, b), people


def expected(people, poster):
    """Independent figures for one poster: {dim: (k, n)} and understood (k, n), from the fixture's rules."""
    out = {}
    for d in DIMS:
        values = [scores(n, poster).get(d) for n in range(len(people))]
        given = [v for v in values if v is not None]
        out[d] = (sum(1 for v in given if v >= 4), len(given))
    codes = [("understood", "partly", "misunderstood")[(n + poster) % 3] if n % 4 else "understood"
             for n in range(len(people))]
    out["understood"] = (codes.count("understood"), len(codes))
    return out


def test_the_figures_match_an_independent_computation(session):
    w, stage, (a, b), people = session
    rows = {row.item_id: row for row in KINDS["pretest"].results(stage)}
    for poster, item in enumerate((a, b)):
        want = expected(people, poster)
        row = rows[item.id]
        assert row.count == 20
        for key, (k, n) in want.items():
            got = row.understood if key == "understood" else row.dims[key]
            low, high = wilson_ref(k, n)
            assert (got.k, got.n) == (k, n), key
            assert got.low == pytest.approx(low, abs=1e-9) and got.high == pytest.approx(high, abs=1e-9)
        # per segment: the 18-24 band alone
        band = [n for n, age in enumerate(AGES) if age == "18-24"]
        given = [scores(n, poster)["attraction"] for n in band]
        cell = row.by_segment["age"]["18-24"]["attraction"]
        assert (cell.k, cell.n) == (sum(v >= 4 for v in given), len(given))


def test_console_report_csv_and_json_show_the_same_figures(session):
    w, stage, (a, b), people = session
    phases.reveal(w, stage.id, True)
    html = screens(w)
    doc = report.render_html(w)
    data = exports.workshop_dict(w)
    with zipfile.ZipFile(io.BytesIO(exports.csv_zip(w))) as z:
        table = list(csv.DictReader(io.StringIO(z.read("pretest_results.csv").decode("utf-8-sig"))))
    for poster, item in enumerate((a, b)):
        for key, (k, n) in expected(people, poster).items():
            low, high = wilson_ref(k, n)
            shown = f"{pct(k / n)}% ({k} of {n})"
            interval = f"95% CI {pct(low)}–{pct(high)}%"
            for where, text in (("console", html["console"]), ("projector", html["projector"]),
                                ("report", doc)):
                flat = re.sub(r"<[^>]+>", "", text)
                assert shown in flat and interval in flat, (where, key, shown, interval)
            line = next(r for r in table if r["item_id"] == str(item.id) and not r["segment_question"])
            assert (int(line[f"{key}_k"]), int(line[f"{key}_n"])) == (k, n)
            assert float(line[f"{key}_ci_low"]) == pytest.approx(round(low * 100, 1))
            row = next(r for r in data["results"]["pretest_results"]
                       if r["item_id"] == item.id and not r["segment_question"])
            assert row[f"{key}_pct"] == pytest.approx(round(k / n * 100, 1))
            assert row[f"{key}_ci_high"] == pytest.approx(round(high * 100, 1))
    assert "perceived-effectiveness ratings from a small sample" in doc


def test_answers_are_one_material_per_screen_with_words_and_faces(session, browser):
    w, stage, (a, b), people = session
    phone = browser()
    page = phone.http.get(f"/j/{w.code}").get_data(as_text=True)
    assert "Before you start" in page and "Yes, I agree to take part" in page  # consent first
    phone.http.post(f"/j/{w.code}", data={"step": "consent", "consent": "yes"})
    phone.http.post(f"/j/{w.code}", data={"consent": "yes", "group": w.groups[0], "age": "18-24"})
    page = phone.http.get(f"/j/{w.code}").get_data(as_text=True)
    assert page.count("data-step") >= 4 and "Material 1 of 2" in page and "Material 2 of 2" in page
    assert page.count('href="#pt-face-5"') == 10 and "Yes, very much" in page and "No, not at all" in page
    assert "Hotline 108 (free)" in page and "Quick exit" in page


def test_coding_is_one_tap_and_can_be_undone(session):
    w, stage, (a, b), people = session
    person = people[1]
    events.run("answer:code", w, None, {"stage_id": stage.id, "item_id": a.id, "participant_id": person.id,
                                       "code": "none"})
    assert db.session.scalar(db.select(Vote).filter_by(item_id=a.id, participant_id=person.id,
                                                       criterion="code")) is None
    with pytest.raises(Refused):
        events.run("answer:code", w, None, {"stage_id": stage.id, "item_id": a.id, "participant_id": 999999,
                                           "code": "understood"})


def test_contact_details_are_masked_and_the_facilitator_told(session):
    w, stage, (a, b), people = session
    notes = [v.note for v in db.session.scalars(db.select(Vote).where(Vote.note != ""))]
    assert not any("9911" in n or "@example.org" in n for n in notes)
    assert any("[☎ …]" in n and "[✉ …]" in n for n in notes)
    html = screens(w)["console"]
    assert "contact details removed" in html


def test_decision_verdicts_and_the_strategy_lists_what_passed(app, session):
    w, stage, (a, b), people = session
    with pytest.raises(Refused, match="must change"):
        decide(w, stage, verdicts=[f"{a.id}:changes", f"{b.id}:ready"], note_ids=[a.id, b.id],
               item_notes=["", ""])
    decide(w, stage, verdicts=[f"{a.id}:changes", f"{b.id}:rework"], note_ids=[a.id, b.id],
           item_notes=["Bigger hotline number", ""])
    assert stage.decision["item_ids"] == [a.id]
    assert stage.decision["changes"] == {str(a.id): "Bigger hotline number"}
    from workshop.flow import agenda
    strategy = agenda.add_stage(w, "strategy")
    phases.goto_stage(w, strategy.id)
    phases.set_phase(w, strategy.id, "draft")
    html = screens(w)["projector"]
    assert "Pre-tested with the target group" in html and "Bigger hotline number" in html
    assert "Rework and test again" in html


def test_xlsform_converts_with_pyxform_and_kobo_answers_import_into_the_same_figures(session):
    w, stage, (a, b), people = session
    kind = KINDS["pretest"]
    form = kind.questionnaire(stage)
    book = xlsform.to_xlsx(form)
    result = convert(xlsform=io.BytesIO(book), file_type=".xlsx")
    for lang in ("English (en)", "Mongolian (mn)", "Swedish (sv)", "Norwegian Bokmål (nb)"):
        assert f'lang="{lang}"' in result.xform
    assert f"m{a.id}_attraction" in result.xform
    before = {row.item_id: row for row in kind.results(stage)}
    # The same 20 people's answers, as KoboToolbox exports them (semicolons, group paths, metadata).
    header = ["start", "end", "age", *[f"m{i.id}/m{i.id}_{k}" for i in (a, b) for k in (*DIMS, "said",
                                                                                        "change",
                                                                                      "dislike",
                                                                                          "offensive")],
              "_id", "_uuid", "_submission_time", "_index"]
    lines = [";".join(header)]
    for n, age in enumerate(AGES):
        cells = ["2026-12-01T10:00", "2026-12-01T10:09", age]
        for poster, _item in enumerate((a, b)):
            s = scores(n, poster)
            cells += [str(s.get(k, "")) for k in DIMS] + [SAID[(n + poster) % 4], "", "", ""]
        cells += [str(n), f"uuid-{n}", "2026-12-01T10:10", str(n)]
        lines.append(";".join(cells))
    field = gen_workshop(gen_facilitator("field@example.org"), template="pretest")
    field.segment_questions = {"age": ["15-17", "18-24", "25-34"]}
    fstage = field.stages[0]
    fa = add_item(field, None, {"stage_id": fstage.id, "title": "Poster A"})
    fb = add_item(field, None, {"stage_id": fstage.id, "title": "Poster B"})
    phases.set_phase(field, fstage.id, "vote")
    text = "\n".join(lines).replace(f"m{a.id}", f"m{fa.id}").replace(f"m{b.id}", f"m{fb.id}")
    records = xlsform.read_answers(kind.questionnaire(fstage), text.encode())
    assert kind.import_answers(fstage, records) == 20
    after = {row.item_id: row for row in kind.results(fstage)}
    for old, new in ((a, fa), (b, fb)):
        for d in DIMS:
            assert (after[new.id].dims[d].k, after[new.id].dims[d].n) == (before[old.id].dims[d].k,
                                                                         before[old.id].dims[d].n)
        assert after[new.id].by_segment["age"]["25-34"]["comprehension"].k == \
            before[old.id].by_segment["age"]["25-34"]["comprehension"].k
    with pytest.raises(Refused, match="imported before"):  # the same file twice
        kind.import_answers(fstage, records)


@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace("_uuid", "_uuid;surprise"), "not in the questionnaire: surprise"),
    (lambda t: t.replace("_attraction;", "_attractiveness;", 1), "columns missing"),
    (lambda t: t.replace(";5;", ";7;", 1), "line 2, column m"),
])
def test_a_field_file_that_does_not_match_is_refused_whole(session, change, message):
    w, stage, (a, b), people = session
    kind = KINDS["pretest"]
    header = ["age", *[f"m{i.id}_{k}" for i in (a, b) for k in (*DIMS, "said", "change", "dislike",
                                                                "offensive")],
              "_uuid"]
    rows = [";".join(header)] + [";".join(["18-24", *(["5"] * 5 + ["ok", "", "", ""]) * 2, f"u{n}"])
                                 for n in range(3)]
    text = change("\n".join(rows))
    if "surprise" in message:
        text = text.replace("\n", ";x\n") + ";x"
    count = db.session.scalar(db.select(db.func.count(Participant.id)))
    with pytest.raises(Refused, match=re.escape(message)):
        kind.import_answers(stage, xlsform.read_answers(kind.questionnaire(stage), text.encode()))
    assert db.session.scalar(db.select(db.func.count(Participant.id))) == count


def test_json_round_trip_keeps_answers_codes_segments_and_the_decision(app, session):
    w, stage, (a, b), people = session
    decide(w, stage, verdicts=[f"{a.id}:ready", f"{b.id}:changes"], note_ids=[b.id], item_notes=["Shorter"])
    from workshop import imports
    data = exports.json_export(w)
    copy = imports.import_workshop(gen_facilitator("other@example.org"), data)
    kind = KINDS["pretest"]
    new = copy.stages[0]
    got = {i.title: r for r in kind.results(new) for i in new.items if i.id == r.item_id}
    want = {i.title: r for r in kind.results(stage) for i in stage.items if i.id == r.item_id}
    for title in ("Poster A", "Poster B"):
        assert got[title].as_dict() | {"item_id": 0} == want[title].as_dict() | {"item_id": 0}
    assert copy.safeguarding and copy.segment_questions == w.segment_questions
    assert list(copy.stages[0].decision["changes"].values()) == ["Shorter"]


def test_screens_in_every_phase_render(session):
    w, stage, (a, b), people = session
    for phase in ("vote", "results"):
        phases.set_phase(w, stage.id, phase) if phase != "results" else phases.reveal(w, stage.id, True)
        html = screens(w)
        assert "Poster A" in html["console"] and stage.title in html["projector"]
    assert goto(w, "pretest").id == stage.id
