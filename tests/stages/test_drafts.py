"""Vote on drafts: approve / approve with changes / reject, reasons required, per-draft verdicts."""
import pytest
from sqlalchemy import func, select

from tests.conftest import add_item, cast_vote, decide, gen_participant, gen_workshop, goto, screens
from workshop.errors import Refused
from workshop.extensions import db
from workshop.flow import phases
from workshop.models import Vote
from workshop.stages import kind_of


def sample_vote(item_id: int, n: int) -> dict:
    """A vote on the n-th of two items, for the family tests of every kind (test_kinds.py)."""
    return {"item_id": item_id, "value": "changes", "note": f"Change {n}"}



@pytest.fixture
def drafts(app):
    w = gen_workshop()
    stage = next(s for s in w.stages if s.kind == "drafts")
    video = add_item(w, None, {"stage_id": stage.id, "title": "Video script", "channel": "TikTok",
                                    "detail": "Scene 1: a phone lights up with a job offer..."})
    poster = add_item(w, None, {"stage_id": stage.id, "title": "Bus-stop poster", "channel": "Print"})
    goto(w, "drafts", "vote")
    return w, stage, video, poster


def verdict(w, person, item, value, note="", cid="cid-00001"):
    return cast_vote(w, person, {"cid": cid, "item_id": item.id, "value": value, "note": note})


def test_changes_and_rejections_need_a_reason(drafts):
    w, _stage, video, _poster = drafts
    me = gen_participant(w)
    for value in ("changes", "reject"):
        with pytest.raises(Refused, match="what must change"):
            verdict(w, me, video, value, note="   ")
    for bad in ({"value": "maybe"}, {"value": "approve", "note": "x" * 1001}, {"value": 2}):
        with pytest.raises(Refused):
            cast_vote(w, me, {"cid": "cid-00009", "item_id": video.id, **bad})
    assert db.session.scalar(select(func.count(Vote.id))) == 0
    mine = verdict(w, me, video, "changes", note="Show the hotline number longer")
    assert mine == {"choices": {f"{video.id}:": "changes"},
                    "notes": {f"{video.id}:": "Show the hotline number longer"}}
    mine = verdict(w, me, video, "approve", cid="cid-00002")  # changed their mind
    assert mine["choices"] == {f"{video.id}:": "approve"} and mine["notes"] == {}


def test_results_count_and_share_per_draft_with_changes_grouped(drafts):
    w, stage, video, poster = drafts
    youth, gov, other = (gen_participant(w, group=g) for g in ("Youth", "Government", "Youth"))
    verdict(w, youth, video, "approve")
    verdict(w, gov, video, "changes", "Add the ministry logo", cid="cid-00002")
    verdict(w, other, video, "reject", "Too dark for teenagers", cid="cid-00003")
    verdict(w, youth, poster, "approve", cid="cid-00004")
    rows = {r.item_id: r for r in kind_of(stage).results(stage)}
    assert rows[video.id].detail == {"approve": (1, 0.333), "changes": (1, 0.333), "reject": (1, 0.333)}
    assert rows[video.id].by_group == {"Youth": 0.5, "Government": 1.0}
    assert [c["note"] for c in rows[video.id].changes] == ["Add the ministry logo", "Too dark for teenagers"]
    assert rows[poster.id].score == 1.0
    html = screens(w)
    assert "Add the ministry logo" in html["console"] and "Add the ministry logo" not in html["projector"]
    phases.reveal(w, stage.id)
    html = screens(w)["projector"]
    assert "Add the ministry logo" in html and "Approve with changes: <strong>1</strong> (33%)" in html


def test_decision_needs_a_verdict_for_every_draft(drafts):
    w, stage, video, poster = drafts
    phases.reveal(w, stage.id)
    with pytest.raises(Refused, match="each draft"):
        decide(w, stage, verdicts=[f"{video.id}:approved"])
    with pytest.raises(Refused, match="each draft"):
        decide(w, stage, verdicts=[f"{video.id}:approved", f"{poster.id}:perhaps"])
    decide(w, stage, verdicts=[f"{video.id}:changes", f"{poster.id}:rejected"])
    assert stage.decision == {"item_ids": [video.id], "verdicts": {str(video.id): "changes",
                                                                   str(poster.id): "rejected"}}
    html = screens(w)["phone"]
    assert "Approved with the listed changes" in html and "Rejected" in html


def test_phones_see_each_draft_with_a_verdict_form(drafts):
    w, _stage, video, poster = drafts
    html = screens(w)["phone"]
    assert "Draft 1 of 2" in html and "Scene 1: a phone lights up" in html
    assert html.count('data-event="vote" data-outbox data-needs-note="changes reject"') == 2


@pytest.mark.parametrize("named", [True, False])
def test_reasons_carry_names_in_a_named_workshop_as_comments_and_fist_notes_do(app, named):
    """Console and report name who gave a reason when the workshop collects names; the projector and
    phones never do; a workshop without names shows groups only."""
    from workshop import report
    w = gen_workshop(collect_names=named)
    stage = next(s for s in w.stages if s.kind == "drafts")
    video = add_item(w, None, {"stage_id": stage.id, "title": "Video script"})
    goto(w, "drafts", "vote")
    amina = gen_participant(w, group="Youth", name="Amina")
    bold = gen_participant(w, group="Government", name="Bold")
    verdict(w, amina, video, "changes", "Show the hotline longer")
    verdict(w, bold, video, "reject", "Too dark", cid="cid-00002")
    phases.reveal(w, stage.id)
    shown = screens(w)
    shown["report"] = report.render_html(w)
    for channel in ("console", "report"):
        assert ("Amina" in shown[channel] and "Bold" in shown[channel]) is named, channel
        assert "Show the hotline longer" in shown[channel] and "Youth" in shown[channel]
    for channel in ("projector", "phone"):
        assert "Amina" not in shown[channel] and "Bold" not in shown[channel]
