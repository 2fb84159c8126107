"""Tallies: pure functions from stored votes to results. No database, no Flask."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Row:
    """One item's line in a result: its rank (shared on ties), score and breakdown."""

    item_id: int
    score: int
    rank: int = 0
    tied: bool = False
    share: float = 0.0  # of the top score, for bar widths
    by_group: dict[str, int] = field(default_factory=dict)


def rank(scores: dict[int, int], order: Iterable[int] = ()) -> list[Row]:
    """Rank items by score, highest first; equal scores share a rank (1, 1, 3).

    `order` breaks display order among equals (e.g. submission order), never rank.
    """
    position = {item_id: i for i, item_id in enumerate(order)}
    rows = [Row(item_id, score) for item_id, score in scores.items()]
    rows.sort(key=lambda r: (-r.score, position.get(r.item_id, len(position)), r.item_id))
    top = rows[0].score if rows else 0
    for i, row in enumerate(rows):
        row.rank = rows[i - 1].rank if i and rows[i - 1].score == row.score else i + 1
        row.share = row.score / top if top else 0.0
    per_rank = Counter(row.rank for row in rows)
    for row in rows:
        row.tied = per_rank[row.rank] > 1
    return rows


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
