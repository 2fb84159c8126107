"""Pre-test with the target group: each person rates each material on the five questions of message
pre-testing, says in their own words what it says, and what they would change.

Materials are drafts carried over from an approved draft review (with their images) or
uploaded here: text, image, and a link or transcript for video or audio. Each phone walks
the materials one per screen (live in a room, the facilitator showing one at a time, or
self-paced with a field team), answering five 5-point scales with words and faces. The
facilitator codes each open answer understood / partly / misunderstood on the console.
Results per material and per segment: the share scoring 4-5 with its 95 % Wilson interval,
the coded comprehension %, each against a threshold the facilitator sets; the decision is a
verdict per material with what must change, which the agreed strategy lists.

How answers are stored: one Vote row per answer (criterion = the dimension, value 1-5; or an
open answer: value 0, the text in `note`), and the facilitator's code of a person's open answer
as one more row of that person on that material (criterion "code", value 1-3). So the CSV and
JSON exports, the JSON import and the report need nothing of their own.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from ... import segments
from ...errors import Refused
from ...extensions import db
from ...models import Participant, Vote
from ..base import ID_LIST, StageKind
from ..registry import register
from . import analysis, fieldwork
from .forms import (
    CODE_VALUES,
    CODES,
    DIMENSIONS,
    SCALE,
    TEXTS,
    THRESHOLDS,
    AnswerForm,
    CodingForm,
    MaterialForm,
    PretestSettingsForm,
)

VERDICTS = {"ready": _l("Ready to use"), "changes": _l("Use after the listed changes"),
            "rework": _l("Rework and test again")}
DIMENSION_KEYS = [key for key, _label, _question in DIMENSIONS]
TEXT_KEYS = [key for key, _label in TEXTS]


class PretestStage(StageKind):
    key = "pretest"
    label = _l("Pre-test with the target group")
    prompt = _l("Tell us what you think of each material.")
    phases = ("pending", "vote", "results", "decided")
    defaults = {"show_groups": False, "focus": None, **{f"th_{k}": v for k, v in THRESHOLDS.items()}}
    template = "stages/pretest/screens.html"
    vote_meaning = "answer"
    noun = _l("material")
    ItemForm = MaterialForm
    VoteForm = AnswerForm
    CodingForm = CodingForm
    SettingsForm = PretestSettingsForm
    takes_images = True
    self_paced = True
    dimensions = DIMENSIONS
    scale = SCALE
    texts = TEXTS
    codes = CODES
    verdicts = VERDICTS
    decision_schema = {"type": "object", "required": ["item_ids"], "additionalProperties": False,
                       "properties": {"item_ids": ID_LIST, "verdicts": {
                           "type": "object", "maxProperties": 1000,
                           "propertyNames": {"pattern": "^[1-9][0-9]{0,15}$"},
                           "additionalProperties": {"enum": list(VERDICTS)}}, "changes": {
                           "type": "object", "maxProperties": 1000,
                           "propertyNames": {"pattern": "^[1-9][0-9]{0,15}$"},
                           "additionalProperties": {"type": "string", "maxLength": 2000}}}}

    def item_fields(self, form):
        return {"title": form.title.data, "detail": form.detail.data or "",
                "data": {"link": form.link.data or "", "channel": form.channel.data or "",
                         "warning": form.warning.data or ""}}

    def thresholds(self, stage) -> dict:
        """Return the facilitator's thresholds (% scoring 4-5 needed) per dimension and for "understood"."""
        return {k: self.setting(stage, f"th_{k}") if self.setting(stage, f"th_{k}") is not None else v
                for k, v in THRESHOLDS.items()}

    # --- answers ------------------------------------------------------------------------

    def vote(self, stage, participant, form, client_id):
        """Store one person's answers on one material; what they leave empty keeps what they gave."""
        self.open_item(stage, form.item_id.data)
        item_id = form.item_id.data
        for key in DIMENSION_KEYS:
            if form[key].data is not None:
                self.store(stage, participant, item_id, key, form[key].data, client_id)
        for key in TEXT_KEYS:
            if form[key].data:
                self.store(stage, participant, item_id, key, 0, client_id, note=form[key].data)
        return self.mine(stage, participant)

    def mine(self, stage, participant):
        votes = [v for v in self.my_votes(stage, participant) if v.criterion != "code"]
        return {"choices": {f"{v.item_id}:{v.criterion}": v.value for v in votes if v.value},
                "notes": {f"{v.item_id}:{v.criterion}": v.note for v in votes if v.note},
                "done": sorted({v.item_id for v in votes})}

    def code_answer(self, stage, form):
        """Code (or un-code: "none") a participant's answer to "what is this saying to you?"."""
        item_id, person = form.item_id.data, form.participant_id.data
        said = db.session.scalar(select(Vote.id).where(
            Vote.stage_id == stage.id, Vote.item_id == item_id, Vote.participant_id == person,
            Vote.criterion == "said"))
        if said is None:
            raise Refused(_l("That answer is not part of this stage."))
        db.session.execute(delete(Vote).where(Vote.item_id == item_id, Vote.participant_id == person,
                                              Vote.criterion == "code"))
        if form.code.data != "none":
            db.session.add(Vote(stage_id=stage.id, participant_id=person, item_id=item_id, criterion="code",
                                value=CODE_VALUES[form.code.data], client_id=""))

    # --- results ----------------------------------------------------------------------

    def _votes(self, stage):
        return db.session.execute(select(Vote.item_id, Vote.participant_id, Vote.criterion, Vote.value,
                                         Vote.note).where(Vote.stage_id == stage.id).order_by(Vote.id)).all()

    def segment_answers(self, stage) -> dict[int, dict]:
        """Return each participant's segment answers."""
        return dict(db.session.execute(select(Participant.id, Participant.segments).where(
            Participant.workshop_id == stage.workshop_id)).all())

    def results(self, stage):
        questions = [key for key, _q, _o in segments.asked(stage.workshop)]
        return analysis.materials(self._votes(stage), self.segment_answers(stage), self.active_ids(stage),
                                  DIMENSION_KEYS, self.thresholds(stage), questions)

    def answers(self, stage) -> dict[int, list]:
        """Return the open answers per material, oldest first: who (id, segments), what, its code."""
        rows = db.session.execute(
            select(Vote.item_id, Vote.participant_id, Vote.criterion, Vote.value, Vote.note,
                   Participant.segments)
            .join(Participant, Vote.participant_id == Participant.id)
            .where(Vote.stage_id == stage.id).order_by(Vote.id)).all()
        codes = {(r.item_id, r.participant_id): r.value for r in rows if r.criterion == "code"}
        out: dict[int, list] = {}
        for r in rows:
            if r.criterion in TEXT_KEYS and r.note:
                out.setdefault(r.item_id, []).append({
                    "participant_id": r.participant_id, "kind": r.criterion, "text": r.note,
                    "segments": r.segments or {}, "code": codes.get((r.item_id, r.participant_id))
                    if r.criterion == "said" else None})
        return out

    def aggregate(self, stage):
        return {"results": [row.as_dict() for row in self.results(stage)], "progress": self.progress(stage)}

    def thaw(self, aggregate):
        return [analysis.Material.from_dict(row) for row in aggregate.get("results", [])]

    def export_tables(self, stage):
        """One row per material and segment answer (the whole sample first), one column per figure."""
        rows = []
        names = {item.id: item.title for item in stage.items}
        for row in (self.thaw(stage.aggregate) if stage.aggregate else self.results(stage)):
            cells = [("", "", {**row.dims, "understood": row.understood})]
            cells += [(q, a, c) for q, answers in row.by_segment.items() for a, c in answers.items()]
            for question, answer, shares in cells:
                line = [row.item_id, names.get(row.item_id, ""), question, answer,
                        row.count if not question else ""]
                for key in [*DIMENSION_KEYS, "understood"]:
                    s = shares[key]
                    line += [s.k, s.n, round(s.value * 100, 1), round(s.low * 100, 1), round(s.high * 100, 1)]
                    line += [("yes" if row.met.get(key) else "no" if row.met.get(key) is False else "")
                             if not question else ""]
                rows.append(line)
        header = ["item_id", "material", "segment_question", "segment_answer", "respondents"]
        for key in [*DIMENSION_KEYS, "understood"]:
            header += [f"{key}_k", f"{key}_n", f"{key}_pct", f"{key}_ci_low", f"{key}_ci_high", f"{key}_met"]
        return {"pretest_results": (header, rows)}

    # --- the decision and the strategy ---------------------------------------------------

    def decide(self, stage, form):
        """A verdict for every material (`<id>:<ready|changes|rework>`), with what must change."""
        choices = dict(self.decision_choices(stage))
        verdicts = {}
        for entry in form.verdicts.data:
            item_id, _sep, verdict = str(entry).partition(":")
            if not item_id.isdigit() or int(item_id) not in choices or verdict not in VERDICTS:
                raise Refused(_l("Give each material a verdict."))
            verdicts[int(item_id)] = verdict
        if set(verdicts) != set(choices):
            raise Refused(_l("Give each material a verdict."))
        changes = {}
        for item_id, text in zip(form.note_ids.data or [], form.item_notes.data or [], strict=False):
            if item_id in choices and text.strip():
                changes[str(item_id)] = text.strip()[:2000]
        for item_id, verdict in verdicts.items():
            if verdict == "changes" and str(item_id) not in changes:
                raise Refused(_l("Say what must change in “%(title)s”.", title=choices[item_id]))
        return {"item_ids": [i for i in choices if verdicts[i] != "rework"],
                "verdicts": {str(i): verdicts[i] for i in choices}, "changes": changes}

    def decision_item_ids(self, decision):
        return [*decision.get("item_ids", []), *(int(k) for k in decision.get("verdicts", {})),
                *(int(k) for k in decision.get("changes", {}))]

    def renumber_decision(self, decision, ids):
        renumbered = super().renumber_decision(decision, ids)
        for key in ("verdicts", "changes"):
            if key in decision:
                renumbered[key] = {str(ids[int(k)]): v for k, v in decision[key].items()}
        return renumbered

    def strategy_part(self, stage, by_id):
        """Each material pre-tested: its verdict, what must change, and its figures against the thresholds."""
        decision = stage.decision or {}
        results = {row.item_id: row for row in (self.thaw(stage.aggregate) if stage.aggregate
                                                else self.results(stage))}
        tested = []
        for key, verdict in (decision.get("verdicts") or {}).items():
            item = by_id.get(int(key))
            if item is not None:
                result = results.get(item.id)
                missed = [str(label) for k, label, _q in DIMENSIONS if result and result.met.get(k) is False]
                if result and result.met.get("understood") is False:
                    missed.append(str(_l("Understood (coded)")))
                tested.append({"item": item, "verdict": verdict, "changes": (decision.get("changes") or {})
                               .get(key, ""), "result": result, "missed": missed})
        return {"pretested": tested} if tested else {}

    # --- field surveys (ODK / KoboToolbox) -----------------------------------------------

    def questionnaire(self, stage):
        return fieldwork.questionnaire(self, stage)

    def import_answers(self, stage, records):
        return fieldwork.store(self, stage, records)


# The people in a pre-test are often the vulnerable group itself: the template starts in
# safeguarding mode, with one group (nobody is asked which stakeholder group they are).
register(PretestStage(), templates={
    "pretest": (_l("Pre-test only (with safeguarding)"), ["pretest"],
                {"safeguarding": True, "groups": [_l("Participants")]}),
})
