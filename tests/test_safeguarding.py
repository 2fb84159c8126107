"""Safeguarding mode: consent before joining, no names, contact details masked in every output,
the quick exit, content warnings, the helpline, and retention (tested with a moved clock)."""
from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from datetime import timedelta

import pytest

from tests.conftest import add_comment, add_item, cast_vote, gen_workshop, screens
from workshop import exports, report
from workshop.extensions import db
from workshop.flow import phases, workshops
from workshop.models import Participant, Vote
from workshop.safeguarding import delete_on, due, masked_count
from workshop.stages import KINDS

CONTACT = re.compile(r"9911[\s-]?2233|\+976|girl@example\.org|bat@mail\.mn")


def pretest(**kwargs):
    w = gen_workshop(template="pretest", title="Sensitive pre-test", **kwargs)
    stage = w.stages[0]
    item = add_item(w, None, {"stage_id": stage.id, "title": "Poster", "detail": "Hotline 1800 1234",
                              "warning": "Shows a scene of violence"})
    phases.set_phase(w, stage.id, "vote")
    return w, stage, item


def test_the_pretest_template_starts_in_safeguarding_mode_with_one_group(app):
    w, _stage, _item = pretest()
    assert w.safeguarding and w.groups == ["Participants"] and not w.collect_names
    assert not gen_workshop(w.facilitator).safeguarding


def test_no_join_without_consent(app, browser):
    w, _stage, _item = pretest()
    phone = browser()
    page = phone.http.get(f"/j/{w.code}").get_data(as_text=True)
    assert "Before you start" in page and "Quick exit" in page and 'name="name"' not in page
    refused = phone.http.post(f"/j/{w.code}", data={"group": "Participants", "name": "Bat"})
    assert "only if you agree" in refused.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Participant.id))) == 0
    phone.http.post(f"/j/{w.code}", data={"step": "consent", "consent": "yes"})
    phone.http.post(f"/j/{w.code}", data={"consent": "yes", "group": "Participants", "name": "Bat"})
    person = db.session.scalar(db.select(Participant))
    assert person.consented_at is not None and person.name == ""
    assert phone.http.get(f"/j/{w.code}").headers["Cache-Control"] == "no-store"


def test_quick_exit_forgets_the_phone_and_shows_a_neutral_page(app, browser):
    w, _stage, _item = pretest()
    phone = browser()
    phone.http.post(f"/j/{w.code}", data={"consent": "yes", "group": "Participants"})
    token = db.session.scalar(db.select(Participant.token))
    page = phone.http.get(f"/j/{w.code}").get_data(as_text=True)
    assert 'href="/x"' in page and "exit.js" in page
    out = phone.http.get("/x")
    assert out.status_code == 200 and "Sensitive" not in out.get_data(as_text=True)
    assert "<title>New Tab</title>" in out.get_data(as_text=True)
    assert out.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert out.headers["Cache-Control"] == "no-store"
    db.session.expire_all()
    assert db.session.scalar(db.select(Participant.token)) != token  # the old cookie is nobody's now
    again = phone.http.get(f"/j/{w.code}").get_data(as_text=True)
    assert "Before you start" in again  # back at the consent screen: nothing of the answers
    nxt = phone.http.get(f"/x?next=/j/{w.code}")
    assert nxt.status_code == 302 and nxt.headers["Location"].endswith(f"/j/{w.code}")
    assert phone.http.get("/x?next=https://evil.example").status_code == 200


def test_no_contact_detail_survives_into_any_output(app):
    """Every output: projector, console, phone, report (HTML), CSV zip, JSON export."""
    w, stage, item = pretest()
    w.segment_questions = {"age": ["18-24"]}
    person = workshops.join(w, None, "", "Participants", consent=True, segment_answers={"age": "18-24"})
    cast_vote(w, person, {"cid": "answer-0001", "item_id": item.id, "attraction": 4,
                          "said": "Call me on +976 9911 2233", "change": "mail girl@example.org",
                          "offensive": "bat@mail.mn 9911-2233"})
    phases.reveal(w, stage.id, True)
    outputs = {**screens(w), "report": report.render_html(w), "json": exports.json_export(w).decode()}
    with zipfile.ZipFile(io.BytesIO(exports.csv_zip(w))) as z:
        outputs.update({name: z.read(name).decode("utf-8-sig") for name in z.namelist()})
    assert len(outputs) > 8
    for name, text in outputs.items():
        assert not CONTACT.search(text), name
    # the material's own number stays: only what participants write is masked
    assert "[☎ …]" in outputs["report"] and "Hotline 1800 1234" in outputs["report"]
    assert masked_count(w) == 3
    assert "answers had a phone number or e-mail address" in _console_page(app, w)


def _console_page(app, w):
    client = app.test_client()
    client.post("/login", data={"email": "fac@example.org", "password": "correct horse battery"})
    return client.get(f"/w/{w.code}/console").get_data(as_text=True)


def test_turning_safeguarding_on_masks_what_was_written_before(app):
    w = gen_workshop()
    from tests.conftest import gen_ideas
    gen_ideas(w, "Recruiters call from 88112233")
    from workshop import safeguarding
    safeguarding.settings(w, safeguarding=True, helpline="", consent_note="", retention_days=None,
                          self_paced=False, segment_questions={})
    assert "88112233" not in screens(w)["console"]


def test_warnings_and_helpline_are_shown_on_the_phone(app, browser):
    w, stage, _item = pretest()
    w.helpline = "Hotline 108"
    stage.warning = "Talks about trafficking"
    db.session.commit()
    phone = browser()
    phone.http.post(f"/j/{w.code}", data={"consent": "yes", "group": "Participants"})
    page = phone.http.get(f"/j/{w.code}").get_data(as_text=True)
    assert page.index("Talks about trafficking") < page.index("Poster")
    assert page.index("Shows a scene of violence") < page.index('id="card-')
    assert "Hotline 108" in page


def answered(w, stage, item, n=3):
    for k in range(n):
        person = workshops.join(w, None, "", "Participants", consent=True)
        cast_vote(w, person, {"cid": f"answer-{k:04d}", "item_id": item.id, "attraction": 5,
                              "comprehension": 2 + k, "said": f"Answer {k}"})
    return KINDS["pretest"].results(stage)


def test_retention_deletes_the_answers_and_keeps_the_figures_with_a_moved_clock(app, runner):
    w, stage, item = pretest()
    before = answered(w, stage, item)[0].as_dict()
    w.retention_days = 30
    db.session.commit()
    workshops.set_open(w, False)
    closed = w.closed_at
    assert delete_on(w) == closed + timedelta(days=30)
    assert due(closed + timedelta(days=29)) == []
    result = runner.invoke(args=["retention", "--now", (closed + timedelta(days=29)).isoformat()])
    assert "No workshop is due" in result.output and db.session.scalar(db.select(db.func.count(Vote.id)))
    result = runner.invoke(args=["retention", "--dry-run", "--now",
                                 (closed + timedelta(days=31)).isoformat()])
    assert "Due:" in result.output and db.session.scalar(db.select(db.func.count(Vote.id)))
    result = runner.invoke(args=["retention", "--now", (closed + timedelta(days=31)).isoformat()])
    assert result.exit_code == 0 and "Deleted the answers" in result.output
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Vote.id))) == 0  # raw answers gone
    people = db.session.scalars(db.select(Participant)).all()
    assert all(p.segments == {} and p.consented_at is None for p in people)
    assert w.purged_at is not None
    kept = KINDS["pretest"].thaw(stage.aggregate)[0].as_dict()
    assert kept == before  # the figures stay
    doc = report.render_html(w)
    assert "Answer 1" not in doc and "3 of 3" in doc and "retention period" in doc
    assert due(closed + timedelta(days=90)) == []  # done once
    data = json.loads(exports.json_export(w))
    assert data["results"]["pretest_results"][0]["attraction_k"] == 3


def test_the_retention_command_is_documented_with_the_other_commands():
    from pathlib import Path
    operations = (Path(__file__).resolve().parent.parent / "docs" / "operations.md").read_text()
    assert "flask --app wsgi retention" in operations


def test_masked_count_ignores_workshops_without_markers(app):
    w, stage, item = pretest()
    answered(w, stage, item, n=1)
    assert masked_count(w) == 0


@pytest.mark.parametrize("text", ["Ring 99112233", "+47 912 34 567", "a.b@c.no"])
def test_comments_and_ideas_are_masked_too(app, text):
    w = gen_workshop(safeguarding=True)
    from tests.conftest import goto
    stage = goto(w, "concepts")
    item = add_item(w, None, {"stage_id": stage.id, "title": "C", "message": "M"})
    phases.set_phase(w, stage.id, "vote")
    person = workshops.join(w, None, "", w.groups[0], consent=True)
    comment = add_comment(w, person, {"cid": "comment-0001", "item_id": item.id, "tag": "change",
                                      "text": text})
    assert comment.text in ("Ring [☎ …]", "[☎ …]", "[✉ …]")
    assert subprocess is not None
