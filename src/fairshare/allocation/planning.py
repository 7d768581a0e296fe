"""Pure allocation arithmetic (no database).

The engine (``engine.py``) splits the supply across committees with
``largest_remainder`` and, for the per-building policy, the pool of a committee across
its buildings with ``even_split``; the order within a committee is computed in SQL
(``setbased``). Keeping the arithmetic pure makes it easy to test and to explain:

* ``largest_remainder``: split a whole number in proportion to weights; remainders
  go to the largest fractional parts, ties in the order the keys are given;
* ``even_split``: split a whole number as evenly as possible over buckets of limited
  size (water filling); extra units go to the earliest buckets.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def largest_remainder(total: int, weights: Sequence[tuple[K, int]]) -> dict[K, int]:
    """Split ``total`` (capped at the sum of weights) in proportion to the weights."""
    weight_sum = sum(weight for _, weight in weights)
    if weight_sum <= 0:
        return {key: 0 for key, _ in weights}
    total = max(0, min(total, weight_sum))
    shares = {key: total * weight // weight_sum for key, weight in weights}
    left = total - sum(shares.values())
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i][1] % weight_sum), i))
    for i in order[:left]:
        shares[weights[i][0]] += 1
    return shares


def even_split(total: int, sizes: Sequence[tuple[K, int]]) -> dict[K, int]:
    """Split ``total`` over buckets as evenly as their sizes allow; extras to earlier buckets."""
    shares = {key: 0 for key, _ in sizes}
    total = max(0, min(total, sum(size for _, size in sizes)))
    while total > 0:
        open_keys = [key for key, size in sizes if shares[key] < size]
        per = total // len(open_keys)
        if per == 0:
            for key in open_keys[:total]:
                shares[key] += 1
            break
        for key, size in sizes:
            if shares[key] < size:
                give = min(per, size - shares[key])
                shares[key] += give
                total -= give
    return shares
