"""A whole campaign workshop with something in every table, for the export, import and delete tests."""
from __future__ import annotations

import io
import secrets
import sqlite3
from functools import cache
from pathlib import Path

from flask import current_app
from PIL import Image

from tests.conftest import (
    add_comment,
    add_item,
    cast_vote,
    decide,
    gen_participant,
    gen_workshop,
    goto,
    update_settings,
)
from workshop import images
from workshop.extensions import db
from workshop.flow import items, phases
from workshop.models import Report, utcnow

PEOPLE = [("Åsa Øberg", "Government"), ("Ольга Петрова", "Civil society"), ("Jonas Ærø", "Youth"),
          ("Mia", "UN / donor"), ("Kari Nordmann", "Creative partner"), ("Lee", "Youth")]


def png(width=1200, height=800, color=(200, 80, 40)) -> io.BytesIO:
    """Return a real PNG image (with a gradient, so encoders have something to do)."""
    image = Image.new("RGB", (width, height), color)
    for x in range(0, width, 7):
        image.putpixel((x, x * height // width), (x % 256, 40, 200))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    buf.seek(0)
    return buf


def gen_campaign(facilitator=None, named: bool = False):
    """Walk a workshop through every stage: ideas (hidden, merged), votes, ratings, comments, decisions.

    Returns (workshop, people, counts) where counts holds how many rows each table got.
    """
    w = gen_workshop(facilitator, collect_names=named, title="Safe migration: Østfold & Київ")
    w.org_name, w.org_logo = "IOM Norway", images.save(png(400, 160, (20, 60, 160)))  # the report's cover
    db.session.commit()
    people = [gen_participant(w, group=group, name=name) for name, group in PEOPLE]
    a, b, c, d, e, f = people

    trend = w.stages[0]
    phases.set_phase(w, trend.id, "collect")
    ideas = [add_item(w, p, {"cid": f"idea-{n:04d}", "title": title, "detail": detail})
             for n, (p, title, detail) in enumerate([
                 (a, "Fake job offers on social media", "Mostly Facebook groups"),
                 (b, "Вербовка через Telegram", "Каналы с вакансиями"),
                 (c, '=HYPERLINK("http://evil.example","click")', "formula injection attempt"),
                 (d, "Fake job offers on Facebook", "duplicate of the first"),
                 (e, "@SUM(1+1)", "-starts with a minus"),
                 (f, "Recruiters at bus stations in Østfold", "")])]
    ideas.append(add_item(w, None, {"title": "Debt bondage through travel loans",
                                         "detail": "From the desk"}))
    items.hide_item(w, ideas[2].id, True)
    phases.set_phase(w, trend.id, "vote")
    cast_vote(w, a, {"cid": "dot-0001", "item_id": ideas[0].id, "dots": 2})
    cast_vote(w, b, {"cid": "dot-0002", "item_id": ideas[3].id, "dots": 1})
    cast_vote(w, b, {"cid": "dot-0003", "item_id": ideas[1].id, "dots": 2})
    cast_vote(w, c, {"cid": "dot-0004", "item_id": ideas[5].id, "dots": 1})
    phases.set_phase(w, trend.id, "collect")
    items.merge_items(w, ideas[3].id, ideas[0].id)  # b's dot moves to the first idea
    phases.set_phase(w, trend.id, "vote")
    cast_vote(w, d, {"cid": "dot-0005", "item_id": ideas[0].id, "dots": 3})
    decide(w, trend, item_ids=[ideas[0].id], rationale="Most dots, and the police see it daily",
           minority_view="Youth wanted Telegram recruitment")
    phases.save_notes(w, trend.id, "Ask the ministry about 2025 figures")

    audience = goto(w, "audience", "collect")
    women = add_item(w, a, {"cid": "seg-0001", "title": "Women 18-25 seeking work abroad",
                                 "age": "18-25", "place": "Two provinces", "channels": "Facebook, TikTok",
                                 "knowledge": "Few know the agency licence check"})
    parents = add_item(w, b, {"cid": "seg-0002", "title": "Their parents", "age": "45-60"})
    phases.set_phase(w, audience.id, "vote")
    cast_vote(w, a, {"cid": "rank-0001", "item_id": women.id, "value": 1})
    cast_vote(w, a, {"cid": "rank-0002", "item_id": parents.id, "value": 2})
    cast_vote(w, e, {"cid": "rank-0003", "item_id": parents.id, "value": 1})
    decide(w, audience, primary_id=women.id, item_ids=[parents.id], rationale="The ones who travel")

    concepts = next(s for s in w.stages if s.kind == "concepts")
    poster = add_item(w, None, {"stage_id": concepts.id, "title": "Check the job",
                                     "message": "Ask 3 questions", "detail": "A poster series",
                                     "channel": "Posters"}, upload=png())
    radio = add_item(w, None, {"stage_id": concepts.id, "title": "Your passport is yours",
                                    "message": "Never hand it over"})
    goto(w, "concepts", "vote")
    ratings = 0
    for n, (person, item, criterion, value) in enumerate([
            (a, poster, "clear", 5), (a, poster, "relevant", 4), (b, poster, "clear", 3),
            (b, radio, "appealing", 2), (c, radio, "action", 1), (f, poster, "fitting", 5)]):
        cast_vote(w, person, {"cid": f"rate-{n:04d}", "item_id": item.id, "criterion": criterion,
                                   "value": value})
        ratings += 1
    comments = [("keep", "The colours work; «ясно»", a, poster),
                ("change", "-Add the hotline number", b, poster), ("concern", "Too long for radio", c, radio)]
    for n, (tag, text, person, item) in enumerate(comments):
        add_comment(w, person, {"cid": f"com-{n:04d}", "item_id": item.id, "tag": tag, "text": text})
    phases.focus(w, concepts.id, poster.id)
    decide(w, concepts, item_ids=[poster.id], rationale="Clearest")

    drafts = next(s for s in w.stages if s.kind == "drafts")
    video = add_item(w, None, {"stage_id": drafts.id, "title": "Video script", "channel": "TikTok"})
    sign = add_item(w, None, {"stage_id": drafts.id, "title": "Bus-stop poster"})
    goto(w, "drafts", "vote")
    cast_vote(w, a, {"cid": "ver-0001", "item_id": video.id, "value": "changes", "note": "Subtitle it"})
    cast_vote(w, b, {"cid": "ver-0002", "item_id": video.id, "value": "approve"})
    cast_vote(w, c, {"cid": "ver-0003", "item_id": sign.id, "value": "reject",
                          "note": "Nobody waits there"})
    decide(w, drafts, verdicts=[f"{video.id}:changes", f"{sign.id}:rejected"], rationale="Video first")

    strategy = goto(w, "strategy", "draft")
    update_settings(w, {"stage_id": strategy.id, "key_message": "Check the job before you go",
                             "call_to_action": "Call 116 006", "step_what": ["Print posters"],
                             "step_who": ["NGO"], "step_when": ["March"]})
    phases.set_phase(w, strategy.id, "vote")
    plan = strategy.items[0]
    for n, (person, value) in enumerate([(a, 5), (b, 4), (c, 1)]):
        cast_vote(w, person, {"cid": f"fist-{n:04d}", "item_id": plan.id, "value": value,
                                   "note": "Radio is missing" if value < 2 else ""})
    decide(w, strategy, item_ids=[plan.id], rationale="Agreed; radio budget to be found")
    counts = {"participants": len(people), "items": 7 + 2 + 2 + 2 + 1, "dot_votes": 5,
              "rank_votes": 3, "ratings": ratings, "verdicts": 3, "fists": 3, "comments": len(comments)}
    return w, people, counts


@cache
def report_pdf() -> bytes:
    """Return a small real PDF rendered by WeasyPrint (once per test run)."""
    import weasyprint
    return weasyprint.HTML(string="<h1>Agreed strategy</h1><p>Check the job before you go.</p>").write_pdf()


def gen_report(workshop, html: bool = True, status: str = "done") -> Report:
    """Store a finished report of a workshop: a real PDF (and an HTML version) in REPORT_DIR."""
    folder = Path(current_app.config["REPORT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    stem = secrets.token_urlsafe(12)
    (folder / f"{stem}.pdf").write_bytes(report_pdf())
    if html:
        (folder / f"{stem}.html").write_text("<!doctype html><h1>Agreed strategy</h1>", encoding="utf-8")
    report = Report(workshop_id=workshop.id, status=status, pdf_file=f"{stem}.pdf",
                    html_file=f"{stem}.html" if html else None, pages=1, finished_at=utcnow())
    db.session.add(report)
    db.session.commit()
    return report


def add_report_row(db_path: Path, reports: Path, code: str) -> None:
    """Store a finished report in a running server's SQLite file, as the report renderer would."""
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "demo-report.pdf").write_bytes(report_pdf())
    with sqlite3.connect(db_path) as conn:
        (wid,) = conn.execute("SELECT id FROM workshops WHERE code = ?", (code,)).fetchone()
        now = utcnow().isoformat(" ")
        conn.execute("INSERT INTO reports (workshop_id, status, page_size, language, pdf_file, pages, error, "
                     "requested_at, finished_at) "
                     "VALUES (?, 'done', 'A4', 'en', 'demo-report.pdf', 1, '', ?, ?)", (wid, now, now))
    conn.close()
