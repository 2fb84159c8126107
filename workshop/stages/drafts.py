"""Vote on drafts: approve, approve with changes, or reject each draft, with reasons.

A draft is a piece of real content (a script, a post, a poster) with an
optional image. *Approve with changes* and *reject* need a short reason: those
reasons are the list of changes the creative partner takes away. The decision
records a verdict per draft.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import Form, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from .. import voting
from ..errors import Refused
from ..extensions import db
from ..forms import strip
from ..models import Participant, Vote
from .base import StageKind

# Stored as Vote.value: the order is the order of support.
VALUES = {"reject": 0, "changes": 1, "approve": 2}
VERDICT_OF = {v: k for k, v in VALUES.items()}
LABELS = {"approve": _l("Approve"), "changes": _l("Approve with changes"), "reject": _l("Reject")}
DECISIONS = {"approved": _l("Approved"), "changes": _l("Approved with the listed changes"),
             "rejected": _l("Rejected")}


class DraftForm(Form):
    title = StringField(_l("Draft title"), filters=[strip], validators=[
        DataRequired(message=_l("Give the draft a title.")), Length(max=120)])
    channel = StringField(_l("Channel / format"), filters=[strip], validators=[Optional(), Length(max=120)])
    detail = TextAreaField(_l("Text (script, post copy...)"), filters=[strip],
                           validators=[Optional(), Length(max=5000)])


class VerdictForm(Form):
    item_id = IntegerField(_l("Draft"), validators=[InputRequired(), NumberRange(min=1)])
    value = SelectField(_l("Your verdict"), choices=list(VALUES), validators=[InputRequired()])
    note = TextAreaField(_l("Reason / change needed"), filters=[strip], validators=[Length(max=1000)])

    def validate_note(self, field):
        if self.value.data in ("changes", "reject") and not field.data:
            raise ValidationError(_l("Say what must change (or why you reject it)."))


class DraftsStage(StageKind):
    key = "drafts"
    label = _l("Vote on drafts")
    phases = ("pending", "vote", "results", "decided")
    template = "stages/drafts.html"
    ItemForm = DraftForm
    VoteForm = VerdictForm
    takes_images = True
    noun = _l("draft")
    labels = LABELS
    decisions = DECISIONS

    def item_fields(self, form):
        return {"title": form.title.data, "detail": form.detail.data or "",
                "data": {"channel": form.channel.data or ""}}

    def vote(self, stage, participant, form, client_id):
        self.open_item(stage, form.item_id.data)
        self.store(stage, participant, form.item_id.data, "", VALUES[form.value.data], client_id,
                   note=form.note.data or "")
        return self.mine(stage, participant)

    def mine(self, stage, participant):
        votes = self.my_votes(stage, participant)
        return {"choices": {f"{v.item_id}:": VERDICT_OF[v.value] for v in votes},
                "notes": {f"{v.item_id}:": v.note for v in votes if v.note}}

    def _votes(self, stage):
        return db.session.execute(
            select(Vote.item_id, Participant.group, Vote.value, Vote.note)
            .join(Participant, Vote.participant_id == Participant.id)
            .where(Vote.stage_id == stage.id).order_by(Vote.id)).all()

    def results(self, stage):
        votes = self._votes(stage)
        rows = voting.approval([(v.item_id, v.group, VERDICT_OF[v.value]) for v in votes],
                               self.active_ids(stage))
        changes: dict[int, list] = {}
        for v in votes:
            if v.note:
                changes.setdefault(v.item_id, []).append(
                    {"verdict": VERDICT_OF[v.value], "note": v.note, "group": v.group})
        for row in rows:
            row.changes = changes.get(row.item_id, [])
        return rows

    def decide(self, stage, form):
        """A verdict for every draft still in the vote: `<item id>:<approved|changes|rejected>`."""
        choices = dict(self.decision_choices(stage))
        verdicts = {}
        for entry in form.verdicts.data:
            item_id, _sep, verdict = str(entry).partition(":")
            if not item_id.isdigit() or int(item_id) not in choices or verdict not in DECISIONS:
                raise Refused(_l("Give each draft a verdict."))
            verdicts[int(item_id)] = verdict
        if set(verdicts) != set(choices):
            raise Refused(_l("Give each draft a verdict."))
        return {"item_ids": [i for i in choices if verdicts[i] != "rejected"],
                "verdicts": {str(i): verdicts[i] for i in choices}}
