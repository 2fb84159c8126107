"""The pre-test's figures, from stored answers: pure functions over plain rows, no database.

For each material: how many answered; per dimension the share scoring 4-5 (of those who
answered that question) with its 95 % Wilson interval (workshop/stats.py says why Wilson);
the share of coded open answers fully understood ("comprehension % from the codes"); each
threshold met or not; and the same figures per segment answer (age band, place, gender).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ... import stats

NOT_ANSWERED = ""  # a segment question left unanswered: its own column, never dropped


@dataclass
class Material:
    """One material's results: `dims[key]` and `understood` are stats.Share; `met[key]` True/False/None."""

    item_id: int
    count: int = 0  # people who answered anything on it
    dims: dict = field(default_factory=dict)
    understood: stats.Share = field(default_factory=lambda: stats.share(0, 0))
    codes: dict = field(default_factory=dict)  # understood / partly / misunderstood / uncoded: how many
    met: dict = field(default_factory=dict)
    by_segment: dict = field(default_factory=dict)  # question -> answer -> {dim or "understood": Share}
    # generic result-row fields the shared templates read
    rank: int = 0
    score: float = 0.0
    share: float = 0.0
    by_group: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Return plain JSON data (the export's results and what retention keeps)."""
        return {"item_id": self.item_id, "count": self.count,
                "dims": {k: s.as_dict() for k, s in self.dims.items()},
                "understood": self.understood.as_dict(), "codes": dict(self.codes), "met": dict(self.met),
                "by_segment": {q: {a: {k: s.as_dict() for k, s in cells.items()} for a,
                                   cells in answers.items()}
                               for q, answers in self.by_segment.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> Material:
        """Rebuild a Material from `as_dict` data (kept after the raw answers are deleted)."""
        def share(d):
            return stats.share(d["k"], d["n"])
        row = cls(item_id=data["item_id"], count=data.get("count", 0),
                  dims={k: share(d) for k, d in data.get("dims", {}).items()},
                  understood=share(data.get("understood", {"k": 0, "n": 0})),
                  codes=dict(data.get("codes", {})), met=dict(data.get("met", {})),
                  by_segment={q: {a: {k: share(d) for k, d in cells.items()} for a, cells in answers.items()}
                              for q, answers in data.get("by_segment", {}).items()})
        row.score = row.share = row.understood.value
        return row


def _cells(scores: dict[str, list[int]], codes: list[int], dimensions) -> dict:
    """Return {dim: Share of 4-5, "understood": Share of code 1 among coded} for some answers."""
    cells = {key: stats.top_box(scores.get(key, [])) for key in dimensions}
    cells["understood"] = stats.share(sum(1 for c in codes if c == 1), len(codes))
    return cells


def materials(votes, segments: dict[int, dict], item_ids, dimensions, thresholds: dict,
              questions=()) -> list[Material]:
    """Compute every material's results.

    `votes` are (item_id, participant_id, criterion, value, note) rows: a dimension's 1-5
    score, an open answer (value 0, note), or the facilitator's "code" of the open answer
    (1 understood, 2 partly, 3 misunderstood). `segments` maps a participant to their
    segment answers; `questions` are the segment questions asked; `thresholds` the share (%)
    each dimension (and "understood") must reach.
    """
    item_ids, dimensions = list(item_ids), list(dimensions)
    scores: dict = {i: defaultdict(list) for i in item_ids}
    people: dict = {i: set() for i in item_ids}
    code_of: dict = {i: {} for i in item_ids}
    said: dict = {i: set() for i in item_ids}
    by_person: dict = {i: defaultdict(lambda: defaultdict(list)) for i in item_ids}
    for item_id, participant_id, criterion, value, note in votes:
        if item_id not in scores:
            continue
        if criterion in dimensions and 1 <= value <= 5:
            scores[item_id][criterion].append(value)
            by_person[item_id][participant_id][criterion].append(value)
            people[item_id].add(participant_id)
        elif criterion == "code" and value in (1, 2, 3):
            code_of[item_id][participant_id] = value
        elif criterion != "code" and note:
            people[item_id].add(participant_id)
            if criterion == "said":
                said[item_id].add(participant_id)
    rows = []
    for item_id in item_ids:
        codes = [c for p, c in code_of[item_id].items() if p in said[item_id]]
        cells = _cells(scores[item_id], codes, dimensions)
        row = Material(item_id=item_id, count=len(people[item_id]),
                       dims={k: cells[k] for k in dimensions}, understood=cells["understood"])
        row.codes = {"understood": codes.count(1), "partly": codes.count(2), "misunderstood": codes.count(3),
                     "uncoded": len(said[item_id]) - len(codes)}
        row.met = {k: cells[k].meets(thresholds.get(k, 0) / 100) for k in [*dimensions, "understood"]}
        for question in questions:
            groups: dict = defaultdict(list)
            for person in sorted(people[item_id]):
                groups[(segments.get(person) or {}).get(question) or NOT_ANSWERED].append(person)
            row.by_segment[question] = {
                answer: _cells({k: [v for p in members for v in by_person[item_id][p][k]]
                                for k in dimensions},
                               [code_of[item_id][p] for p in members
                                if p in code_of[item_id] and p in said[item_id]], dimensions)
                for answer, members in groups.items()}
        row.score = row.share = row.understood.value
        rows.append(row)
    return rows
