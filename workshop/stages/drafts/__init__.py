"""Vote on drafts: approve, approve with changes, or reject each draft, with reasons.

A draft is a piece of real content (a script, a post, a poster) with an
optional image. *Approve with changes* and *reject* need a short reason: those
reasons are the list of changes the creative partner takes away. The decision
records a verdict per draft.
"""
from __future__ import annotations

from collections import Counter

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from ... import voting
from ...errors import Refused
from ...extensions import db
from ...models import Participant, Vote
from ..base import ID_LIST, StageKind
from ..registry import register
from .forms import VALUES, DraftForm, VerdictForm

VERDICT_OF = {v: k for k, v in VALUES.items()}
LABELS = {"approve": _l("Approve"), "changes": _l("Approve with changes"), "reject": _l("Reject")}
DECISIONS = {"approved": _l("Approved"), "changes": _l("Approved with the listed changes"),
             "rejected": _l("Rejected")}


class DraftsStage(StageKind):
    key = "drafts"
    label = _l("Vote on drafts")
    prompt = _l("Approve, request changes or reject each draft.")
    phases = ("pending", "vote", "results", "decided")
    defaults = {"show_groups": False, "focus": None}
    template = "stages/drafts/screens.html"
    vote_meaning = "verdict"
    strategy_labels = {"drafts": _l("Approved drafts")}
    decision_schema = {"type": "object", "required": ["item_ids"], "additionalProperties": False,
                       "properties": {"item_ids": ID_LIST, "verdicts": {
                           "type": "object", "maxProperties": 1000,
                           "propertyNames": {"pattern": "^[1-9][0-9]{0,15}$"},
                           "additionalProperties": {"enum": list(DECISIONS)}}}}
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
            select(Vote.item_id, Participant.group, Participant.name, Vote.value, Vote.note, Vote.id,
                   Vote.note_hidden)
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
                    {"verdict": VERDICT_OF[v.value], "note": v.note, "group": v.group, "name": v.name or "",
                     "vote_id": v.id, "hidden": v.note_hidden})  # a hidden reason: console and report only
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

    def export_value(self, value):
        return VERDICT_OF.get(value, value)

    def decision_item_ids(self, decision):
        return [*decision.get("item_ids", []), *(int(k) for k in decision.get("verdicts", {}))]

    def renumber_decision(self, decision, ids):
        renumbered = super().renumber_decision(decision, ids)
        if "verdicts" in decision:
            renumbered["verdicts"] = {str(ids[int(k)]): v for k, v in decision["verdicts"].items()}
        return renumbered

    def strategy_part(self, stage, by_id):
        """The drafts not rejected, each with the changes asked for (the same request once, counted)."""
        changes: dict[int, list[str]] = {}
        for item_id, value, note in db.session.execute(
                select(Vote.item_id, Vote.value, Vote.note).where(
                    Vote.stage_id == stage.id, Vote.note != "").order_by(Vote.id)):
            if VERDICT_OF.get(value) == "changes":
                changes.setdefault(item_id, []).append(note)
        drafts = []
        for key, verdict in ((stage.decision or {}).get("verdicts") or {}).items():
            item = by_id.get(int(key))
            if item is not None and verdict != "rejected":
                same = Counter(changes.get(item.id, []))
                drafts.append({"item": item, "verdict": verdict, "changes": [
                    note if n == 1 else f"{note} (×{n})" for note, n in same.items()]})
        return {"drafts": drafts}

    def strategy_text(self, part):
        """Each draft with its verdict and how many changes are still asked for (the report lists them)."""
        lines = []
        for d in part.get("drafts", []):
            line = f"{d['item'].title} ({DECISIONS[d['verdict']]})"
            asked = ngettext("%(num)d change asked for", "%(num)d changes asked for", len(d["changes"]))
            lines.append(f"{line}: {asked}" if d["changes"] else line)
        return {"drafts": (str(self.strategy_labels["drafts"]), "; ".join(lines))}


register(DraftsStage())
