"""The KAP statistics are pure functions, checked against SciPy and against formulas written again here."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from workshop import kapstats


def wilson_by_roots(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson's interval as the two roots of (p - x/n)^2 = z^2 p (1 - p) / n: written apart from kapstats."""
    phat = x / n
    a = 1 + z * z / n
    b = -(2 * phat + z * z / n)
    c = phat * phat
    root = math.sqrt(b * b - 4 * a * c)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


def newcombe_by_hand(x1, n1, x0, n0):
    """Newcombe (1998) method 10 from his paper's definition: delta - sqrt(...), delta + sqrt(...)."""
    p1, p0 = x1 / n1, x0 / n0
    l1, u1 = wilson_by_roots(x1, n1)
    l0, u0 = wilson_by_roots(x0, n0)
    delta = p1 - p0
    return delta, delta - math.hypot(p1 - l1, u0 - p0), delta + math.hypot(u1 - p1, p0 - l0)


@pytest.mark.parametrize("x, n", [(0, 1), (0, 10), (1, 10), (5, 10), (10, 10), (7, 20), (120, 300), (299,
                                                                                                     300),
                                  (3, 8), (17, 30), (0, 300), (300, 300)])
def test_wilson_matches_scipy_and_the_quadratic(x, n):
    low, high = kapstats.wilson(x, n)
    ci = stats.binomtest(x, n).proportion_ci(method="wilson")
    assert low == pytest.approx(ci.low, abs=1e-12) and high == pytest.approx(ci.high, abs=1e-12)
    roots = wilson_by_roots(x, n)
    assert low == pytest.approx(max(0.0, roots[0]), abs=1e-12) and high == pytest.approx(min(1.0, roots[1]),
                                                                                         abs=1e-12)


def test_wilson_of_nobody_is_none():
    assert kapstats.wilson(0, 0) is None and kapstats.newcombe(1, 2, 0, 0) is None


def test_newcombe_reproduces_the_papers_worked_example():
    # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, example (a): 56/70 - 48/80,
    # method 10: 0.0524 to 0.3339.
    diff, low, high = kapstats.newcombe(56, 70, 48, 80)
    assert diff == pytest.approx(0.2) and round(low, 4) == 0.0524 and round(high, 4) == 0.3339
    # (f) 0/10 - 0/20: -0.1611 to 0.2775
    diff, low, high = kapstats.newcombe(0, 10, 0, 20)
    assert diff == 0 and round(low, 4) == -0.1611 and round(high, 4) == 0.2775


@given(st.integers(1, 400), st.integers(1, 400), st.data())
def test_newcombe_matches_the_definition_and_holds_its_estimate(n1, n0, data):
    x1, x0 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n0))
    diff, low, high = kapstats.newcombe(x1, n1, x0, n0)
    expected = newcombe_by_hand(x1, n1, x0, n0)
    assert (diff, low, high) == pytest.approx((expected[0], max(-1, expected[1]), min(1, expected[2])),
                                              abs=1e-12)
    assert -1 <= low <= diff <= high <= 1


@pytest.mark.parametrize("df", [1, 1.5, 2, 3, 4.7, 9, 29, 99.5, 299, 597.3, 5000, 40000])
@pytest.mark.parametrize("p", [0.975, 0.9, 0.995])
def test_t_quantile_matches_scipy(p, df):
    assert kapstats.t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), abs=1e-9)


SCORES = st.integers(0, 1000).map(lambda v: v / 10)  # respondents' scores, 0-100


@given(st.lists(SCORES, min_size=2, max_size=60))
def test_mean_interval_matches_scipy(values):
    mean, low, high = kapstats.mean_interval(values)
    assert mean == pytest.approx(np.mean(values), abs=1e-9)
    if np.std(values) > 1e-9:
        lo, hi = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
        assert (low, high) == pytest.approx((lo, hi), abs=1e-7)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # SciPy's note on samples without spread
@given(st.lists(SCORES, min_size=2, max_size=50), st.lists(SCORES, min_size=2, max_size=50))
def test_welch_matches_scipy(end, base):
    diff, low, high = kapstats.welch(end, base)
    assert diff == pytest.approx(np.mean(end) - np.mean(base), abs=1e-9)
    if np.var(end) + np.var(base) > 1e-6:
        ci = stats.ttest_ind(end, base, equal_var=False).confidence_interval(0.95)
        assert (low, high) == pytest.approx((ci.low, ci.high), abs=1e-6)


def test_welch_without_spread_and_too_small():
    assert kapstats.welch([50, 50], [40, 40]) == (10, 10, 10)
    assert kapstats.welch([50], [40, 40]) is None and kapstats.mean_interval([3]) is None


@pytest.mark.parametrize("value, shown", [(12.25, 12.3), (12.35, 12.4), (-2.25, -2.3), (-0.04, 0.0), (0.05,
                                                                                                      0.1),
                                          (14.499999999999998, 14.5), (100.0, 100.0), (None, None)])
def test_rounded_once_halves_away_from_zero(value, shown):
    out = kapstats.rounded(value)
    assert out == shown and (out is None or math.copysign(1, out) == math.copysign(1, shown))
