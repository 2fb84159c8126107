"""What changed, checked against an independent computation in every channel: the console's page, the
report (HTML and PDF text), the CSV and the JSON; on the generated campaign (300 respondents a wave,
a known true change; scripts/report_campaign.py)."""
from __future__ import annotations

import csv
import io
import json
import re
from html import unescape

import numpy as np
import pytest
from scipy import stats

from scripts import report_campaign as gen
from tests.conftest import gen_facilitator
from tests.test_kapstats import newcombe_by_hand
from workshop import campaign_report, kapform, kapresults, report
from workshop.extensions import db

PASSWORD = "correct horse battery"
HALF = 0.05 + 1e-9  # a figure rounded to one decimal is within this of the exact value


def truth(base_rows: list[dict], end_rows: list[dict]) -> dict:
    """Compute every indicator from the generator's rows with SciPy and formulas of this file only.

    Returns {(key, segment): {...}} with unrounded percentages and counts.
    """
    items = [(name, section, gen.GOOD_ANSWERS[good]) for name, section, _a, good, *_ in gen.ITEMS]
    groups = [("", base_rows, end_rows)]
    for seg, (values, _weights) in gen.SEGMENTS.items():
        for value in values:
            groups.append((f"{seg}:{value}", [r for r in base_rows if r.get(seg) == value],
                           [r for r in end_rows if r.get(seg) == value]))
    out = {}
    for segment, base, end in groups:
        for name, _section, good in items:
            waves = {}
            for wave, rows in (("baseline", base), ("endline", end)):
                answers = [r[name] for r in rows if name in r]
                n, x = len(answers), sum(a in good for a in answers)
                ci = stats.binomtest(x, n).proportion_ci(method="wilson") if n else None
                waves[wave] = (n, x, 100 * x / n if n else None, ci)
            entry = {"waves": waves}
            if min(waves["baseline"][0], waves["endline"][0]) >= 10:
                diff, low, high = newcombe_by_hand(waves["endline"][1], waves["endline"][0],
                                                   waves["baseline"][1], waves["baseline"][0])
                entry["change"] = (100 * diff, 100 * max(low, -1), 100 * min(high, 1))
            out[(f"item.{name}", segment)] = entry
        for section in ("knowledge", "attitude", "practice"):
            these = [(name, good) for name, s, good in items if s == section]
            waves, scores = {}, {}
            for wave, rows in (("baseline", base), ("endline", end)):
                values = []
                for r in rows:
                    answered = [(name, good) for name, good in these if name in r]
                    if answered:
                        values.append(100 * sum(r[name] in good for name, good in answered) / len(answered))
                scores[wave] = np.array(values)
                if len(values) >= 2 and len(set(values)) == 1:  # no spread: nothing is uncertain
                    waves[wave] = (len(values), None, values[0], (values[0], values[0]))
                elif len(values) >= 2:
                    lo, hi = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values),
                                              scale=stats.sem(values))
                    waves[wave] = (len(values), None, float(np.mean(values)), (max(lo, 0), min(hi, 100)))
                else:  # one respondent: the figure, no interval; none: no figure
                    one = (1, None, values[0], (values[0], values[0])) if values else None
                    waves[wave] = one or (0, None, None, None)
            entry = {"waves": waves}
            if all(len(v) >= 10 for v in scores.values()):
                diff = float(scores["endline"].mean() - scores["baseline"].mean())
                if all(len(set(v)) == 1 for v in scores.values()):
                    entry["change"] = (diff, diff, diff)  # no spread in either wave
                else:
                    ci = stats.ttest_ind(scores["endline"], scores["baseline"],
                                         equal_var=False).confidence_interval(0.95)
                    entry["change"] = (diff, ci.low, ci.high)
            out[(f"score.{section}", segment)] = entry
    return out


def check(published: dict, expected: dict) -> None:
    """Hold one published indicator (rounded, from any channel) to the independent computation."""
    where = (published["key"], published["segment"])
    for wave in ("baseline", "endline"):
        n, x, value, ci = expected["waves"][wave]
        assert int(published[f"{wave}_n"]) == n, where
        if n == 0:
            assert published[wave] in (None, ""), where
            continue
        if x is not None:
            assert int(published[f"{wave}_x"]) == x, where
        assert abs(float(published[wave]) - value) <= HALF, where
        low, high = (ci.low * 100, ci.high * 100) if hasattr(ci, "low") else ci
        assert abs(float(published[f"{wave}_low"]) - low) <= HALF, where
        assert abs(float(published[f"{wave}_high"]) - high) <= HALF, where
    if "change" in expected:
        diff, low, high = expected["change"]
        for name, value in (("change", diff), ("change_low", low), ("change_high", high)):
            assert abs(float(published[name]) - value) <= HALF, (where, name)
        assert str(published["significant"]) in ("True", "true", "yes", "1") if (low > 0 or high < 0) else \
            str(published["significant"]) in ("False", "false", "no", "0", ""), where
    else:
        assert str(published["compared"]) in ("False", "false", "no", "0", ""), where


@pytest.fixture(scope="module")
def rows():
    return gen.survey_rows("baseline", 300, 11), gen.survey_rows("endline", 300, 12)


def test_the_generated_surveys_hold_the_true_change(rows):
    """The generator's samples come from the true shares it declares (a check of the test data itself)."""
    base, end = rows
    for name, _section, _answers, good, _labels, p0, p1 in gen.ITEMS:
        observed = [sum(r.get(name) in gen.GOOD_ANSWERS[good] for r in w) / sum(name in r for r in w)
                    for w in (base, end)]
        assert abs(observed[0] - p0) < 0.12 and abs(observed[1] - p1) < 0.12, name


def test_compute_matches_the_independent_computation_for_every_indicator_and_segment(app, rows):
    campaign = gen.build(gen_facilitator(), participants=6, images=False, surveys=0)
    questions = kapform.questions(campaign)
    indicators = kapresults.compute(questions, *rows, targets=campaign.targets)
    expected = truth(*rows)
    published = [ind.published for ind in indicators]
    assert {(p["key"], p["segment"]) for p in published} == set(expected)
    for p in published:
        check(p, expected[(p["key"], p["segment"])])
    overall = {p["key"]: p for p in published if not p["segment"]}
    assert overall["score.knowledge"]["significant"] and overall["score.knowledge"]["change"] > 10
    # A segment too small to compare in a wave is said so, and never compared.
    assert any(not p["compared"] for p in published if p["segment"].startswith("gender:another"))
    assert all(p["small"] for p in published if p["segment"].startswith("gender:another"))


@pytest.mark.slow
def test_every_channel_shows_the_same_figures_as_the_independent_computation(app, client, tmp_path):
    app.config["REPORT_DIR"] = str(tmp_path / "reports")
    campaign = gen.build(gen_facilitator(), participants=12, images=False)
    expected = truth(gen.survey_rows("baseline", 300, 11), gen.survey_rows("endline", 300, 12))
    client.post("/login", data={"email": "fac@example.org", "password": PASSWORD})
    base = f"/campaigns/{campaign.id}"

    # CSV and JSON: every indicator, overall and per segment.
    reply = client.get(f"{base}/indicators.csv")
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    from_csv = list(csv.DictReader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))
    document = json.loads(client.get(f"{base}/indicators.json").get_data(as_text=True))
    from_json = document["indicators"]
    assert len(from_csv) == len(from_json) == len(expected)
    for row in [*from_csv, *from_json]:
        check(row, expected[(row["key"], row["segment"])])
    assert document["method"]["change_share"].startswith("endline - baseline")
    assert [r["key"] for r in from_csv] == [r["key"] for r in from_json]

    # The console's page and the report: each indicator's figures, as every channel rounds them.
    page = flat(client.get(f"{base}/results").get_data(as_text=True))
    db.session.expire_all()
    html = campaign_report.render_html(db.session.get(type(campaign), campaign.id))
    pdf, pages = report.render_pdf(html)
    from tests.test_report import pdf_text
    pdf_words = " ".join(pdf_text(pdf).split())
    report_words = flat(html)
    for row in from_json:
        if row["segment"]:
            continue
        for text in (page, report_words, pdf_words):
            assert figures_line(row) in text, (row["key"], figures_line(row))
            if row["compared"]:
                assert change_line(row) in text, (row["key"], change_line(row))
    for row in from_json:  # per segment: the section scores in the report, every figure on the page
        if row["segment"] and row["compared"]:
            cell = segment_cell(row)
            assert cell in page, (row["key"], row["segment"], cell)
            if row["measure"] == "score":
                assert cell in report_words and cell in pdf_words, (row["key"], row["segment"])
    assert pages >= 15


def flat(html: str) -> str:
    """Return a page's text: tags out, entities decoded, whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def figures_line(row) -> str:
    return (f"Baseline {row['baseline']:.1f}% 95% CI {row['baseline_low']:.1f} to "
            f"{row['baseline_high']:.1f} · "
            f"n = {row['baseline_n']} Endline {row['endline']:.1f}% 95% CI {row['endline_low']:.1f} to "
            f"{row['endline_high']:.1f} · n = {row['endline_n']}")


def signed(x: float) -> str:
    return f"+{x:.1f}" if x > 0 else f"{x:.1f}"


def change_line(row) -> str:
    return (f"Change {signed(row['change'])} points 95% CI {signed(row['change_low'])} to "
            f"{signed(row['change_high'])} · {'significant' if row['significant'] else 'not significant'}")


def segment_cell(row) -> str:
    return f"{signed(row['change'])} ({signed(row['change_low'])} to {signed(row['change_high'])})"
