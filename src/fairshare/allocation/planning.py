"""Pure allocation arithmetic: who gets the next vouchers (no database).

The engine (``engine.py``) splits the supply with ``largest_remainder`` and, for the
per-building policy, ``even_split``; ``committee_pick`` is the plain statement of the
order within a committee, which ``setbased`` computes in SQL (a property test in
``tests/allocation/test_setbased.py`` compares them on random queues). Keeping the
choice pure makes it easy to test and to explain:

* ``largest_remainder``: split a whole number in proportion to weights; remainders
  go to the largest fractional parts, ties in the order the keys are given;
* ``even_split``: split a whole number as evenly as possible over buckets of limited
  size (water filling); extra units go to the earliest buckets;
* ``committee_pick``: within one committee, requeued households first (in the order
  their vouchers expired), then the offline reserve (the earliest offline-channel
  registrations in policy order), then the round's policy order for the rest.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from fairshare.allocation.lottery import rank_key

FCFS = "fcfs"
PER_BUILDING = "per_building"
LOTTERY = "lottery"


@dataclass(frozen=True, slots=True)
class Candidate:
    registration_id: int
    household_id: int
    committee_id: int
    queue_number: int
    ticket: str
    offline: bool
    building: tuple  # (sort_order, label, building_id): the building's sort key
    priority: tuple | None = None  # requeue order key; None when not requeued
    phone: str = ""


def largest_remainder(total: int, weights: Sequence[tuple[Hashable, int]]) -> dict[Hashable, int]:
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


def even_split(total: int, sizes: Sequence[tuple[Hashable, int]]) -> dict[Hashable, int]:
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


def policy_sorted(candidates: Sequence[Candidate], policy: str, seed: str = "") -> list[Candidate]:
    if policy == LOTTERY:
        return sorted(candidates, key=lambda c: (rank_key(seed, c.ticket), c.ticket))
    return sorted(candidates, key=lambda c: c.queue_number)


def committee_pick(
    candidates: Sequence[Candidate],
    quota: int,
    *,
    policy: str,
    reserve_pct: int = 0,
    seed: str = "",
) -> list[Candidate]:
    """The ``quota`` candidates of one committee to serve now, in issue order."""
    if quota <= 0:
        return []
    requeued = sorted(
        (c for c in candidates if c.priority is not None), key=lambda c: c.priority or ()
    )
    picked = requeued[:quota]
    rest = [c for c in candidates if c.priority is None]
    left = quota - len(picked)
    reserve = min(quota * reserve_pct // 100, left)
    offline = policy_sorted([c for c in rest if c.offline], policy, seed)
    reserved = offline[:reserve]
    picked.extend(reserved)
    left -= len(reserved)
    taken = {c.registration_id for c in reserved}
    pool = [c for c in rest if c.registration_id not in taken]
    if left <= 0:
        return picked
    if policy == PER_BUILDING:
        groups: dict[tuple, list[Candidate]] = {}
        for c in sorted(pool, key=lambda c: c.queue_number):
            groups.setdefault(c.building, []).append(c)
        keys = sorted(groups)
        shares = even_split(left, [(key, len(groups[key])) for key in keys])
        chosen = [c for key in keys for c in groups[key][: shares[key]]]
        picked.extend(sorted(chosen, key=lambda c: c.queue_number))
    else:
        picked.extend(policy_sorted(pool, policy, seed)[:left])
    return picked
