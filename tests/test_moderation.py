"""Moderation over real sockets: a queue for what phones write (per workshop, on by default when the
workshop is sensitive), hiding and restoring any idea, comment or reason, correcting a title. The room
never sees what waits or is hidden; the console, the report and the exports keep all of it, marked.
Phones can never moderate."""
import json

import pytest

from tests.conftest import gen_facilitator, gen_workshop
from workshop import exports, imports, report, safeguarding
from workshop.extensions import db
from workshop.flow import agenda, phases
from workshop.models import Comment, Item, Vote

MOVES = [("item:hide", lambda ids: {"item_id": ids["item"], "hidden": ""}),
         ("item:retitle", lambda ids: {"item_id": ids["item"], "title": "Changed by a phone"}),
         ("comment:hide", lambda ids: {"comment_id": ids["comment"], "hidden": "1"}),
         ("reason:hide", lambda ids: {"vote_id": ids["vote"], "hidden": "1"}),
         ("item:unmerge", lambda ids: {"item_id": ids["item"]})]


class Room:
    def __init__(self, browser, w):
        self.w = w
        console = browser()
        console.login()
        self.console = console.socket(w.code, "console")
        self.projector = console.socket(w.code, "projector")
        self.phone = browser()
        assert self.phone.join(w.code, group=w.groups[0]).status_code == 200
        self.phone_sock = self.phone.socket(w.code, "phone")

    def html(self, sock) -> str:
        return sock.emit("sync", {}, callback=True)["view"]["html"]

    def act(self, event, payload, sock=None):
        reply = (sock or self.console).emit(event, payload, callback=True)
        assert reply["ok"], reply
        db.session.expire_all()
        return reply


def test_sensitive_workshops_moderate_by_default_and_others_do_not(app):
    fac = gen_facilitator()
    assert gen_workshop(fac).moderation is False
    sensitive = gen_workshop(fac, title="Sensitive", safeguarding=True)
    assert sensitive.moderation is True
    w = gen_workshop(fac, title="Later marked sensitive")
    safeguarding.settings(w, safeguarding=True, helpline="", consent_note="", retention_days=None,
                          self_paced=False, segment_questions={})
    assert w.moderation is True
    safeguarding.settings(w, safeguarding=True, helpline="", consent_note="", retention_days=None,
                          self_paced=False, segment_questions={}, moderation=False)
    assert w.moderation is False  # the facilitator may still switch it off


@pytest.mark.parametrize("moderated", [False, True])
def test_a_phones_idea_reaches_the_projector_only_once_approved(app, browser, moderated):
    w = gen_workshop()
    w.moderation = moderated
    db.session.commit()
    stage = w.stages[0]
    phases.set_phase(w, stage.id, "collect")
    room = Room(browser, w)
    room.act("idea:add", {"cid": "idea-00001", "title": "Recruiters at the bus station"}, room.phone_sock)
    item = Item.query.filter(Item.participant_id.is_not(None)).one()
    assert item.pending is moderated and item.hidden is moderated
    assert ("Recruiters at the bus station" in room.html(room.projector)) is not moderated
    console = room.html(room.console)
    assert "Recruiters at the bus station" in console
    assert ("awaiting approval" in console) is moderated
    room.act("item:hide", {"item_id": item.id, "hidden": ""})  # Approve
    assert "Recruiters at the bus station" in room.html(room.projector)
    room.act("item:hide", {"item_id": item.id, "hidden": "1"})
    assert "Recruiters at the bus station" not in room.html(room.projector)
    room.act("item:retitle", {"item_id": item.id, "title": "Recruiters at the bus stations"})
    room.act("item:hide", {"item_id": item.id, "hidden": ""})
    assert "Recruiters at the bus stations" in room.html(room.projector)
    assert db.session.get(Item, item.id).data["original_title"] == "Recruiters at the bus station"
    html = report.render_html(w)
    assert "first written as “Recruiters at the bus station”" in html


def _concepts_with_comment(browser, w):
    stage = agenda.add_stage(w, "concepts")
    concept = Item(stage_id=stage.id, title="Poster: ask before you go", data={})
    db.session.add(concept)
    db.session.commit()
    phases.goto_stage(w, stage.id)
    phases.set_phase(w, stage.id, "vote")
    room = Room(browser, w)
    room.act("comment:add", {"cid": "comment-0001", "item_id": concept.id, "tag": "concern",
                             "text": "The woman in the photo looks like my neighbour"}, room.phone_sock)
    return stage, concept, room


def test_comments_wait_for_approval_and_hidden_ones_stay_in_the_report_and_exports(app, browser):
    w = gen_workshop()
    w.moderation = True
    db.session.commit()
    stage, concept, room = _concepts_with_comment(browser, w)
    comment = Comment.query.one()
    assert comment.pending and comment.hidden
    phases.set_phase(w, stage.id, "results")
    room.act("results:reveal", {"stage_id": stage.id, "revealed": "1"})
    room.act("stage:focus", {"stage_id": stage.id, "item_id": concept.id})  # its comments on the projector
    text = "The woman in the photo looks like my neighbour"
    assert text not in room.html(room.projector)
    assert text in room.html(room.console) and "awaiting approval" in room.html(room.console)
    room.act("comment:hide", {"comment_id": comment.id, "hidden": ""})
    assert text in room.html(room.projector)
    room.act("comment:hide", {"comment_id": comment.id, "hidden": "1"})
    assert text not in room.html(room.projector)
    html = report.render_html(w)
    assert text in html and "hidden by the facilitator" in html
    data = exports.workshop_dict(w)
    assert data["comments"][0]["hidden"] is True and data["workshop"]["moderation"] is True
    copy = imports.import_workshop(gen_facilitator("other@example.org"), json.dumps(data).encode())
    (kept,) = Comment.query.filter(Comment.stage_id.in_([s.id for s in copy.stages])).all()
    assert kept.hidden and not kept.pending and copy.moderation and copy.shuffle_ballots


def test_a_draft_reason_can_be_hidden_from_the_room_and_its_vote_still_counts(app, browser):
    w = gen_workshop()
    stage = next(s for s in w.stages if s.kind == "drafts")
    draft = Item(stage_id=stage.id, title="Radio spot", detail="Thirty seconds", data={})
    db.session.add(draft)
    db.session.commit()
    phases.goto_stage(w, stage.id)
    phases.set_phase(w, stage.id, "vote")
    room = Room(browser, w)
    reason = "Names a real village: people there could be identified"
    room.act("vote", {"cid": "verdict-0001", "item_id": draft.id, "value": "reject", "note": reason},
             room.phone_sock)
    vote = Vote.query.one()
    phases.set_phase(w, stage.id, "results")
    room.act("results:reveal", {"stage_id": stage.id, "revealed": "1"})
    assert reason in room.html(room.projector)
    room.act("reason:hide", {"vote_id": vote.id, "hidden": "1"})
    assert reason not in room.html(room.projector)
    assert reason in room.html(room.console)
    assert "1 vote" in room.html(room.projector)  # the verdict still counts
    html = report.render_html(w)
    assert reason in html and "hidden by the facilitator" in html
    data = exports.workshop_dict(w)
    assert data["votes"][0]["hidden"] is True
    room.act("reason:hide", {"vote_id": vote.id, "hidden": ""})
    assert reason in room.html(room.projector)


def test_phones_can_never_moderate(app, browser):
    w = gen_workshop()
    stage, concept, room = _concepts_with_comment(browser, w)
    vote = Vote(stage_id=stage.id, participant_id=1, item_id=concept.id, criterion="clear", value=3,
                note="a reason")
    db.session.add(vote)
    db.session.commit()
    ids = {"item": concept.id, "comment": Comment.query.one().id, "vote": vote.id}
    before = (concept.title, concept.hidden, Comment.query.one().hidden, vote.note_hidden)
    for event, payload in MOVES:
        reply = room.phone_sock.emit(event, payload(ids), callback=True)
        assert reply["ok"] is False, event
    db.session.expire_all()
    after = (db.session.get(Item, concept.id).title, db.session.get(Item, concept.id).hidden,
             Comment.query.one().hidden, db.session.get(Vote, vote.id).note_hidden)
    assert after == before
