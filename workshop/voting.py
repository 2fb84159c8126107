"""Tallies: pure functions from stored votes to results. No database, no Flask."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Row:
    """One item's line in a result: its rank (shared on ties), score and breakdown."""

    item_id: int
    score: float
    rank: int = 0
    tied: bool = False
    share: float = 0.0  # of the top score (or of the scale), for bar widths
    by_group: dict[str, float] = field(default_factory=dict)
    count: int = 0  # how many people gave this item something
    dist: list[int] = field(default_factory=list)  # e.g. how many ranked it 1st, 2nd, 3rd
    detail: dict = field(default_factory=dict)  # per criterion / per verdict figures


def rank(scores: dict[int, float], order: Iterable[int] = (), scale: float | None = None) -> list[Row]:
    """Rank items by score, highest first; equal scores share a rank (1, 1, 3).

    `order` breaks display order among equals (e.g. submission order), never rank.
    Bar shares are of the top score, or of `scale` (e.g. 5 for a 1-5 rating).
    """
    position = {item_id: i for i, item_id in enumerate(order)}
    rows = [Row(item_id, score) for item_id, score in scores.items()]
    rows.sort(key=lambda r: (-r.score, position.get(r.item_id, len(position)), r.item_id))
    top = scale or (rows[0].score if rows else 0)
    for i, row in enumerate(rows):
        row.rank = rows[i - 1].rank if i and rows[i - 1].score == row.score else i + 1
        row.share = row.score / top if top else 0.0
    per_rank = Counter(row.rank for row in rows)
    for row in rows:
        row.tied = per_rank[row.rank] > 1
    return rows


def rank_leaders(scored: list[tuple[int, float]], n: int) -> list[Row]:
    """Rank the first `n` of a tally given its first n + 1 (item id, score) pairs, best first.

    Exactly what `rank` gives its first n rows: every higher score is in the list, and
    the extra pair tells whether the last row ties with one beyond it.
    """
    return rank(dict(scored[:n + 1]), [item_id for item_id, _score in scored])[:n]


def dot_tally(votes: Iterable[tuple[int, str, int]], item_ids: Iterable[int]) -> list[Row]:
    """Sum dots per item and per stakeholder group, then rank.

    `votes` are (item_id, group, dots); items without votes still appear with 0.
    """
    item_ids = list(item_ids)
    totals = {item_id: 0 for item_id in item_ids}
    groups: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item_id, group, dots in votes:
        if item_id in totals:
            totals[item_id] += dots
            groups[item_id][group or ""] += dots
    rows = rank(totals, item_ids)
    for row in rows:
        row.by_group = dict(groups[row.item_id])
    return rows


def within_budget(allocation: dict[int, int], budget: int) -> bool:
    """Say whether a participant's dots (item -> count) fit the budget."""
    return all(v >= 0 for v in allocation.values()) and sum(allocation.values()) <= budget


def borda(votes: Iterable[tuple[int, str, int]], item_ids: Iterable[int], top: int) -> list[Row]:
    """Borda count of top-`top` rankings: 1st gets `top` points, 2nd `top - 1`, ...

    `votes` are (item_id, group, rank). Each row keeps the full distribution
    (`dist[0]` people ranked it 1st, `dist[1]` 2nd, ...) and points per group.
    """
    item_ids = list(item_ids)
    points = {item_id: 0 for item_id in item_ids}
    dist = {item_id: [0] * top for item_id in item_ids}
    groups: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item_id, group, place in votes:
        if item_id in points and 1 <= place <= top:
            points[item_id] += top + 1 - place
            dist[item_id][place - 1] += 1
            groups[item_id][group or ""] += top + 1 - place
    rows = rank(points, item_ids)
    for row in rows:
        row.dist = dist[row.item_id]
        row.count = sum(row.dist)
        row.by_group = dict(groups[row.item_id])
    return rows


def _mean(values: list[int]) -> float:
    """The exact mean: rounded once, where it is shown (stats.rounded_decimal), never before."""
    return sum(values) / len(values) if values else 0.0


def rubric(votes: Iterable[tuple[int, int, str, str, int]], item_ids: Iterable[int],
           criteria: Iterable[str], scale: int = 5) -> list[Row]:
    """Average ratings per item and criterion, with how many rated; rank by overall mean.

    `votes` are (item_id, participant_id, group, criterion, score). `detail[criterion]` is
    (mean, count); the overall score is the mean of every rating of the item;
    `by_group` is each group's overall mean; `count` is how many people rated it.
    """
    item_ids, criteria = list(item_ids), list(criteria)
    scores: dict[int, dict[str, list[int]]] = {i: {c: [] for c in criteria} for i in item_ids}
    groups: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    raters: dict[int, set] = defaultdict(set)
    for item_id, participant_id, group, criterion, score in votes:
        if item_id in scores and criterion in scores[item_id]:
            scores[item_id][criterion].append(score)
            groups[item_id][group or ""].append(score)
            raters[item_id].add(participant_id)
    overall = {i: _mean([s for c in criteria for s in scores[i][c]]) for i in item_ids}
    rows = rank(overall, item_ids, scale=scale)
    for row in rows:
        row.detail = {c: (_mean(scores[row.item_id][c]), len(scores[row.item_id][c])) for c in criteria}
        row.by_group = {g: _mean(v) for g, v in groups[row.item_id].items()}
        row.count = len(raters[row.item_id])
    return rows


VERDICTS = ("approve", "changes", "reject")


def approval(votes: Iterable[tuple[int, str, str]], item_ids: Iterable[int]) -> list[Row]:
    """Count approve / approve-with-changes / reject per item, in the items' order.

    `votes` are (item_id, group, verdict). `detail[verdict]` is (count, share of
    voters); `by_group[group]` is that group's share approving (with or without changes);
    `score` is the overall share approving.
    """
    item_ids = list(item_ids)
    counts = {i: dict.fromkeys(VERDICTS, 0) for i in item_ids}
    groups: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for item_id, group, verdict in votes:
        if item_id in counts and verdict in VERDICTS:
            counts[item_id][verdict] += 1
            tally = groups[item_id][group or ""]
            tally[0] += verdict != "reject"
            tally[1] += 1
    rows = []
    for item_id in item_ids:
        n = sum(counts[item_id].values())
        approving = n - counts[item_id]["reject"]
        row = Row(item_id, round(approving / n, 3) if n else 0.0, count=n)
        row.share = row.score
        row.detail = {v: (counts[item_id][v], round(counts[item_id][v] / n, 3) if n else 0.0)
                      for v in VERDICTS}
        row.by_group = {g: round(a / t, 3) for g, (a, t) in groups[item_id].items()}
        rows.append(row)
    return rows


@dataclass
class Consensus:
    """A fist-of-five: how many gave 0..5, the mean, and who has serious concerns (0-2)."""

    dist: list[int]
    count: int
    mean: float
    concerns: int
    by_group: dict[str, list[int]]

    @property
    def shares(self) -> list[float]:
        top = max(self.dist) if self.count else 0
        return [n / top if top else 0.0 for n in self.dist]


def fist_of_five(votes: Iterable[tuple[str, int]]) -> Consensus:
    """Tally a fist-of-five (0 = block, 5 = full support); `votes` are (group, value)."""
    dist = [0] * 6
    groups: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
    values = []
    for group, value in votes:
        if 0 <= value <= 5:
            dist[value] += 1
            groups[group or ""][value] += 1
            values.append(value)
    return Consensus(dist=dist, count=len(values), mean=_mean(values),
                     concerns=sum(dist[:3]), by_group=dict(groups))
