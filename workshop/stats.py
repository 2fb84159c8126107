"""Shares with honest intervals for small samples: pure functions, no database, no Flask.

Pre-tests ask 8 to 30 people; KAP surveys a few hundred. A share from so few needs its
uncertainty said with it. We use the **Wilson score interval** (Wilson 1927), not the
textbook normal ("Wald") interval p ± z·sqrt(p(1-p)/n): the Wald interval collapses to
zero width at 0 % and 100 % (4 of 4 would read "100 %, 100-100 %") and undercovers badly
below n = 30, while Wilson's stays inside 0-1 and keeps close to its nominal 95 % coverage
for small n (Brown, Cai & DasGupta 2001; Agresti & Coull 1998). A difference between two
independent shares (baseline and endline) uses Newcombe's hybrid score interval (method 10,
Newcombe 1998), built from the two Wilson intervals, for the same reasons.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal: a two-sided 95 % interval


def rounded_decimal(x: float, digits: int = 1) -> Decimal:
    """Round a published figure once, from its exact value: `digits` decimals, halves away from zero.

    The one rule every channel uses (console, projector, phone, PDF, CSV, the KAP figures):
    3.15 (63/20) is 3.2 and 3.1467 is 3.1 everywhere. A mean of ratings is a fraction with a
    small denominator, so the shortest repr of its float is its exact decimal when that ends in 5.
    """
    return Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP) + 0


@dataclass(frozen=True)
class Share:
    """k of n, as a share with its 95 % Wilson interval (all None-free: n = 0 gives 0, 0-1)."""

    k: int
    n: int
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else 0.0

    def meets(self, threshold: float) -> bool | None:
        """Say whether the share reaches a threshold (0-1); None when nobody answered."""
        return None if not self.n else self.value >= threshold

    def certain(self, threshold: float) -> bool:
        """True when the whole interval is on one side of the threshold (the sample settles it)."""
        return bool(self.n) and (self.low >= threshold or self.high < threshold)

    def as_dict(self) -> dict:
        return {"k": self.k, "n": self.n, "share": round(self.value, 4), "low": round(self.low, 4),
                "high": round(self.high, 4)}


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Return the Wilson score interval of k successes in n trials (0, 1 for n = 0)."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= k <= n:
        raise ValueError(f"{k} successes in {n} trials")
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # Exact at the ends: 0 of n has 0 as its lower bound, n of n has 1 as its upper one.
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


def share(k: int, n: int) -> Share:
    """Return k of n as a Share with its Wilson interval."""
    low, high = wilson(k, n)
    return Share(k, n, low, high)


def top_box(values: Iterable[int], top: Iterable[int] = (4, 5)) -> Share:
    """Return the share of answers in the top box (4 or 5 on a 5-point scale) among those given."""
    values = [v for v in values if v is not None]
    top = set(top)
    return share(sum(1 for v in values if v in top), len(values))


@dataclass(frozen=True)
class Difference:
    """The difference between two independent shares (after - before), with Newcombe's interval."""

    before: Share
    after: Share
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.after.value - self.before.value

    @property
    def significant(self) -> bool:
        """True when the 95 % interval of the difference excludes zero."""
        return self.low > 0 or self.high < 0


def difference(before: Share, after: Share, z: float = Z95) -> Difference:
    """Return after - before with Newcombe's hybrid score interval (method 10, 1998)."""
    p1, p2 = before.value, after.value
    l1, u1 = wilson(before.k, before.n, z)
    l2, u2 = wilson(after.k, after.n, z)
    d = p2 - p1
    low = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return Difference(before, after, max(-1.0, low), min(1.0, high))
