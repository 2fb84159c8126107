"""Tallies are pure functions: ranking with ties, dot sums per group, budgets."""
from hypothesis import given
from hypothesis import strategies as st

from workshop import voting


def test_rank_orders_by_score_and_shares_rank_on_ties():
    rows = voting.rank({1: 5, 2: 7, 3: 5, 4: 0}, order=[1, 2, 3, 4])
    assert [(r.item_id, r.rank, r.tied) for r in rows] == [
        (2, 1, False), (1, 2, True), (3, 2, True), (4, 4, False)]
    assert rows[0].share == 1.0 and rows[-1].share == 0.0


def test_rank_all_zero_is_one_big_tie():
    rows = voting.rank({1: 0, 2: 0})
    assert {r.rank for r in rows} == {1} and all(r.tied for r in rows)


def test_dot_tally_sums_per_item_and_group_and_keeps_unvoted_items():
    votes = [(1, "Youth", 2), (1, "Government", 1), (2, "Youth", 1), (9, "Youth", 3)]
    rows = voting.dot_tally(votes, item_ids=[1, 2, 3])
    assert [(r.item_id, r.score) for r in rows] == [(1, 3), (2, 1), (3, 0)]
    assert rows[0].by_group == {"Youth": 2, "Government": 1}


def test_within_budget():
    assert voting.within_budget({1: 2, 2: 1}, 3)
    assert not voting.within_budget({1: 2, 2: 2}, 3)
    assert not voting.within_budget({1: -1, 2: 4}, 3)


@given(st.dictionaries(st.integers(1, 50), st.integers(0, 20), min_size=1, max_size=30))
def test_rank_properties(scores):
    rows = voting.rank(scores)
    assert sorted(r.item_id for r in rows) == sorted(scores)
    for a, b in zip(rows, rows[1:], strict=False):
        assert a.score >= b.score
        assert (a.rank == b.rank) == (a.score == b.score)
    for row in rows:
        # competition ranking: 1 + how many scored strictly more
        assert row.rank == 1 + sum(1 for r in rows if r.score > row.score)
        assert row.tied == (sum(1 for r in rows if r.score == row.score) > 1)
