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


@given(st.dictionaries(st.integers(1, 50), st.integers(0, 6), min_size=1, max_size=30), st.integers(1, 12))
def test_the_leaders_rank_exactly_as_the_whole_tally(scores, n):
    """The live tally ranks only its first n + 1 rows: ranks, ties and shares must not change."""
    whole = voting.rank(scores)
    prefix = [(r.item_id, r.score) for r in whole[:n + 1]]  # what the database returns, best first
    expect = [(r.item_id, r.rank, r.tied, r.share) for r in whole[:n]]
    assert [(r.item_id, r.rank, r.tied, r.share) for r in voting.rank_leaders(prefix, n)] == expect


# --- Borda (Choose the audience) ----------------------------------------------------

def test_borda_gives_top_points_to_first_place_and_keeps_the_distribution():
    # three people rank their top 3 of items 1..4
    votes = [(1, "Youth", 1), (2, "Youth", 2), (3, "Youth", 3),
             (2, "Government", 1), (1, "Government", 2), (4, "Government", 3),
             (1, "Youth", 1), (3, "Youth", 2)]
    rows = voting.borda(votes, [1, 2, 3, 4], top=3)
    by_id = {r.item_id: r for r in rows}
    assert by_id[1].score == 3 + 2 + 3 and by_id[1].dist == [2, 1, 0] and by_id[1].count == 3
    assert by_id[2].score == 2 + 3 and by_id[3].score == 1 + 2 and by_id[4].score == 1
    assert by_id[1].by_group == {"Youth": 6, "Government": 2}
    assert [r.item_id for r in rows] == [1, 2, 3, 4]


def test_borda_ties_are_shown_as_ties_and_ranks_beyond_top_are_ignored():
    rows = voting.borda([(1, "", 1), (2, "", 1), (3, "", 4)], [1, 2, 3], top=3)
    assert [(r.item_id, r.rank, r.tied) for r in rows] == [(1, 1, True), (2, 1, True), (3, 3, False)]
    assert rows[2].score == 0 and rows[2].dist == [0, 0, 0]


@given(st.lists(st.permutations(range(1, 7)), min_size=0, max_size=30), st.integers(1, 5))
def test_borda_properties(ballots, top):
    """Each ballot ranks its first `top` items: points total top*(top+1)/2 per ballot."""
    votes = [(item, "g", place) for ballot in ballots for place, item in enumerate(ballot[:top], 1)]
    rows = voting.borda(votes, range(1, 7), top=top)
    assert sum(r.score for r in rows) == len(ballots) * top * (top + 1) // 2
    for row in rows:
        assert row.score == sum(n * (top - i) for i, n in enumerate(row.dist))
        assert sum(row.dist) == row.count <= len(ballots)
        assert row.rank == 1 + sum(1 for r in rows if r.score > row.score)


# --- Rubric (Review concepts) --------------------------------------------------------

def test_rubric_averages_per_criterion_with_counts_and_per_group():
    votes = [(1, 10, "Youth", "clear", 5), (1, 10, "Youth", "appealing", 3),
             (1, 11, "Government", "clear", 4), (2, 11, "Government", "clear", 2)]
    rows = voting.rubric(votes, [1, 2, 3], ["clear", "appealing"])
    by_id = {r.item_id: r for r in rows}
    assert by_id[1].detail == {"clear": (4.5, 2), "appealing": (3.0, 1)}
    assert by_id[1].score == 4.0 and by_id[1].count == 2
    assert by_id[1].by_group == {"Youth": 4.0, "Government": 4.0}
    assert by_id[1].share == 4.0 / 5
    assert by_id[3].count == 0 and by_id[3].detail["clear"] == (0.0, 0)
    assert [r.item_id for r in rows] == [1, 2, 3]


@given(st.lists(st.tuples(st.integers(1, 3), st.integers(1, 20), st.sampled_from(["a", "b"]),
                          st.integers(1, 5)), max_size=60))
def test_rubric_means_stay_on_the_scale(raw):
    votes = [(item, who, "g", crit, score) for item, who, crit, score in raw]
    for row in voting.rubric(votes, [1, 2, 3], ["a", "b"]):
        for mean, n in row.detail.values():
            assert (n == 0 and mean == 0) or 1 <= mean <= 5
        assert row.count == len({who for item, who, _c, _s in raw if item == row.item_id})


# --- Approval (Vote on drafts) --------------------------------------------------------

def test_approval_counts_and_shares_per_draft_and_group():
    votes = [(1, "Youth", "approve"), (1, "Youth", "changes"), (1, "Government", "reject"),
             (1, "Government", "approve"), (2, "Youth", "reject")]
    rows = voting.approval(votes, [1, 2, 3])
    assert [r.item_id for r in rows] == [1, 2, 3]
    one = rows[0]
    assert one.detail == {"approve": (2, 0.5), "changes": (1, 0.25), "reject": (1, 0.25)}
    assert one.score == 0.75 and one.count == 4
    assert one.by_group == {"Youth": 1.0, "Government": 0.5}
    assert rows[1].score == 0.0 and rows[2].count == 0


@given(st.lists(st.tuples(st.integers(1, 3), st.sampled_from(voting.VERDICTS)), max_size=50))
def test_approval_shares_add_up(raw):
    rows = voting.approval([(i, "g", v) for i, v in raw], [1, 2, 3])
    for row in rows:
        assert sum(n for n, _share in row.detail.values()) == row.count
        if row.count:
            assert abs(sum(share for _n, share in row.detail.values()) - 1) < 0.01


# --- Fist of five (Agreed strategy) ---------------------------------------------------

def test_fist_of_five_distribution_mean_and_concerns():
    c = voting.fist_of_five([("Youth", 5), ("Youth", 4), ("Government", 2), ("Government", 0), ("x", 9)])
    assert c.dist == [1, 0, 1, 0, 1, 1] and c.count == 4 and c.mean == 2.75 and c.concerns == 2
    assert c.by_group["Government"] == [1, 0, 1, 0, 0, 0]
    assert c.shares[0] == 1.0
    assert voting.fist_of_five([]).mean == 0.0
