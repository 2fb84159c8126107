"""Review concepts: each concept is rated 1-5 on five criteria and commented on.

Concepts come from the facilitator or the creative partner (with an image);
phones rate them and leave comments tagged keep / change / concern. The
facilitator can show one concept at a time (phones follow) or let phones
browse. Results: the mean per criterion with how many rated, an overall
comparison, and each stakeholder group's mean.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ... import voting
from ...extensions import db
from ...models import Comment, Participant, Vote
from ..base import StageKind
from ..registry import register
from .forms import CRITERIA, TAGS, CommentForm, ConceptForm, RatingForm


class ConceptsStage(StageKind):
    key = "concepts"
    label = _l("Review concepts")
    prompt = _l("How well does each creative concept work for our audience?")
    phases = ("pending", "vote", "results", "decided")
    defaults = {"show_groups": False, "focus": None}
    template = "stages/concepts/screens.html"
    shuffles = True  # a ballot: each phone lists the items in its own order
    vote_meaning = "rating"
    strategy_labels = {"concepts": _l("Chosen concept"), "key_message": _l("Key message")}
    ItemForm = ConceptForm
    VoteForm = RatingForm
    CommentForm = CommentForm
    takes_images = True
    noun = _l("concept")
    criteria = CRITERIA
    tags = TAGS

    def item_fields(self, form):
        return {"title": form.title.data, "detail": form.detail.data or "",
                "data": {"message": form.message.data, "channel": form.channel.data or ""}}

    def vote(self, stage, participant, form, client_id):
        self.open_item(stage, form.item_id.data)
        self.store(stage, participant, form.item_id.data, form.criterion.data, form.value.data, client_id)
        return self.mine(stage, participant)

    def mine(self, stage, participant):
        choices = {f"{v.item_id}:{v.criterion}": v.value for v in self.my_votes(stage, participant)}
        comments = db.session.execute(
            select(Comment.item_id, Comment.tag, Comment.text).where(
                Comment.stage_id == stage.id, Comment.participant_id == participant.id)
            .order_by(Comment.id)).all()
        return {"choices": choices,
                "comments": [{"item_id": c.item_id, "tag": c.tag, "text": c.text} for c in comments]}

    def results(self, stage):
        votes = db.session.execute(
            select(Vote.item_id, Vote.participant_id, Participant.group, Vote.criterion, Vote.value)
            .join(Participant, Vote.participant_id == Participant.id)
            .where(Vote.stage_id == stage.id))
        return voting.rubric(votes, self.active_ids(stage), [key for key, _label in CRITERIA])

    def strategy_part(self, stage, by_id):
        chosen = [by_id[i] for i in (stage.decision or {}).get("item_ids", []) if i in by_id]
        return {"concepts": chosen, "key_message": chosen[0].field("message") if chosen else ""}


register(ConceptsStage())
