"""Statistics for the KAP baseline and endline, as pure functions: intervals, differences, rounding.

Shares (% correct, % favourable, % practising) are compared as two independent proportions:
the baseline and the endline ask different people (two samples of the audience), not the
same people twice.

- One share's 95% interval: Wilson's score interval (stats.py, shared with the pre-test).
  The usual "p ± 1.96·SE" (Wald) interval is too narrow for small samples and shares near
  0% or 100%, and can run below 0; Wilson's keeps close to 95% coverage there and stays
  within 0-100%.
- The difference endline − baseline: Newcombe's hybrid score interval (Newcombe 1998,
  method 10), built from the two Wilson intervals. The Wald difference interval has the same
  faults as above and they add up; Newcombe's is the one recommended for reporting and
  agrees with Wald for large samples and middling shares (300 respondents at 40%: within a
  tenth of a point).
- Composite scores (each respondent's share of a section's items answered well, 0-100):
  the mean with Student's t interval, and the difference of two means with Welch's
  interval (the two waves' spreads need not be equal).
- Significant at the 5% level: the 95% interval of the difference leaves out 0.

Every published number goes through `rounded` once (one decimal, halves away from zero):
the console, the report, the CSV and the JSON show the same figures.
"""
from __future__ import annotations

import functools
import math

from . import stats
from .stats import Z95

SMALL = 30    # a wave with fewer respondents than this is a small sample: said next to the figure
MINIMUM = 10  # fewer than this in either wave: no comparison is made (a segment too small to read)


def rounded(x: float | None, digits: int = 1) -> float | None:
    """Round a published figure once, the same way everywhere: `digits` decimals, halves away from zero."""
    if x is None:
        return None
    return float(stats.rounded_decimal(x, digits)) + 0.0


def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Return Wilson's score interval for x successes out of n (shares 0-1), or None for n = 0 (stats.py)."""
    return stats.wilson(x, n, z) if n > 0 else None


def newcombe(x1: int, n1: int, x0: int, n0: int, z: float = Z95) -> tuple[float, float, float] | None:
    """Return the difference p1 − p0 of two independent shares and Newcombe's hybrid score interval.

    p1 = x1/n1 (the endline), p0 = x0/n0 (the baseline); shares 0-1. None if a sample is empty.
    """
    if n1 <= 0 or n0 <= 0:
        return None
    change = stats.difference(stats.share(x0, n0), stats.share(x1, n1), z)
    return change.value, change.low, change.high


def mean_interval(values: list[float]) -> tuple[float, float, float] | None:
    """Return the mean of the values and Student's t 95% interval (None for fewer than two values)."""
    n = len(values)
    if n < 2:
        return None
    mean = sum(values) / n
    half = t_quantile(0.975, n - 1) * math.sqrt(_variance(values, mean) / n)
    return mean, mean - half, mean + half


def welch(values1: list[float], values0: list[float]) -> tuple[float, float, float] | None:
    """Return mean1 − mean0 and Welch's 95% interval for two independent samples (None: one is too small)."""
    n1, n0 = len(values1), len(values0)
    if n1 < 2 or n0 < 2:
        return None
    m1, m0 = sum(values1) / n1, sum(values0) / n0
    a, b = _variance(values1, m1) / n1, _variance(values0, m0) / n0
    diff = m1 - m0
    if a + b == 0:
        return diff, diff, diff  # no spread at all: nothing is uncertain
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n0 - 1))
    half = t_quantile(0.975, df) * math.sqrt(a + b)
    return diff, diff - half, diff + half


def _variance(values: list[float], mean: float) -> float:
    """Return the sample variance (n − 1 in the denominator)."""
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)


# --- Student's t quantile, without SciPy at run time ------------------------------------------

def t_cdf(t: float, df: float) -> float:
    """Return P(T <= t) for Student's t with `df` degrees of freedom (df may be fractional: Welch)."""
    x = df / (df + t * t)
    tail = 0.5 * _betainc(df / 2, 0.5, x)
    return 1 - tail if t > 0 else tail


@functools.lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """Return the t value below which a share p of Student's t distribution lies (0.5 < p < 1).

    Newton's method from the normal quantile (the CDF's slope is the density), kept inside a
    bracket that bisection narrows whenever a Newton step would leave it: a few steps suffice.
    """
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        low, high = high, high * 2
    t = min(max(Z95 if p == 0.975 else (low + high) / 2, low), high)
    for _ in range(100):
        error = t_cdf(t, df) - p
        if abs(error) < 1e-15 or high - low < 1e-14:
            break
        if error < 0:
            low = t
        else:
            high = t
        step = t - error / _t_pdf(t, df)
        t = step if low < step < high else (low + high) / 2
    return t


def _t_pdf(t: float, df: float) -> float:
    """Return Student's t density at t."""
    return math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
                    - (df + 1) / 2 * math.log1p(t * t / df))


def _betainc(a: float, b: float, x: float) -> float:
    """Return the regularised incomplete beta function I_x(a, b) (continued fraction, Lentz's method)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast on this side only: use the symmetry
        return 1.0 - front * _fraction(b, a, 1 - x) / b
    return front * _fraction(a, b, x) / a


def _fraction(a: float, b: float, x: float) -> float:
    """Evaluate the incomplete beta function's continued fraction (Numerical Recipes' betacf)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h
