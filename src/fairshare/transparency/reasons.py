"""Why a board entry was served ahead of an earlier one: the reason code of each entry.

The rule (also in ``docs/open-data.md``): an entry holding a live voucher (issued or
bought) is **served ahead** when, at the allocation run that issued that voucher, a
registration of the same committee that comes *earlier in the policy's order* was
left waiting by that run. The policy's order is the queue number (first come, first
served), the queue number within the same building (per-building split: the split
across buildings is the policy itself), or the lottery rank (lottery). An earlier
registration "left waiting" at a run is one that was registered before the run, is
not void now, held no live voucher just after the run and had not lost its place.
The reason names why the engine (``allocation/setbased.py``) took this entry first,
checked in this order:

* ``requeued``: its household had a voucher expire and was put back at the head of
  the queue (a ``Requeue`` with outcome ``requeued`` before the run); requeued
  households are served before everybody else;
* ``review``: every earlier registration left waiting was pending review at that run
  (a registration pending review keeps its place but is served only after approval;
  ``Registration.reviewed_at`` is the approval time);
* ``offline_reserve``: the entry is an offline registration (desk, phone, photo,
  sheet) in a round with an offline reserve: it was served from the share kept for
  the earliest offline registrations.

An entry served in plain order has no reason (``None``), and so has an inversion none
of these explains (which then shows as such). Everything is computed from rows read in
a bounded number of queries (registrations, vouchers and requeues of the committee),
in one pass over the registrations per run they waited in; the board caches the result.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from fairshare.allocation.lottery import rank_key
from fairshare.allocation.models import Requeue, Voucher
from fairshare.registration.models import OFFLINE_CHANNELS, Registration
from fairshare.rounds.models import Round

REASONS = {
    "requeued": _("requeued: back at the head of the queue after an expired voucher"),
    "review": _("the earlier registrations are waiting for review"),
    "offline_reserve": _("offline reserve: from the share kept for offline registrations"),
}
_OFFLINE = frozenset(str(c) for c in OFFLINE_CHANNELS)
_INF = float("inf")


@dataclass(frozen=True)
class Entry:
    """The fields of one registration the rule reads."""

    id: int
    queue_number: int
    household_id: int
    building_id: int
    status: str
    channel: str
    ticket: str
    acknowledged_at: datetime
    reviewed_at: datetime | None


@dataclass(frozen=True)
class VoucherRow:
    id: int
    household_id: int
    status: str
    issued_at: datetime
    expired_at: datetime | None


def _positions(round: Round, entries: Sequence[Entry]) -> dict[int, tuple[int, float]]:
    """Registration id → (group, key) of the policy's order."""
    if round.policy == Round.Policy.LOTTERY and round.lottery_seed:
        seed = round.lottery_seed
        ranked = sorted(entries, key=lambda e: (rank_key(seed, e.ticket), e.ticket))
        return {e.id: (0, float(i)) for i, e in enumerate(ranked)}
    per_building = round.policy == Round.Policy.PER_BUILDING
    return {e.id: (e.building_id if per_building else 0, float(e.queue_number)) for e in entries}


def _waiting_intervals(
    entry: Entry, vouchers: list[VoucherRow], dropped: set[int]
) -> Iterable[tuple[datetime, datetime | None]]:
    """(from, until) spans in which the household waited: from its registration until
    its first voucher, and again from an expiry (requeued) or a cancellation until the
    next voucher; an expiry that dropped it ends its waiting."""
    start: datetime | None = entry.acknowledged_at
    for v in vouchers:  # by issue time
        if start is not None:
            yield start, v.issued_at
            start = None
        if v.status == Voucher.Status.EXPIRED:
            start = None if v.id in dropped else (v.expired_at or v.issued_at)
        elif v.status == Voucher.Status.CANCELLED:
            start = v.issued_at
    if start is not None:
        yield start, None


def ahead_reasons(
    *,
    round: Round,
    entries: Sequence[Entry],
    vouchers: Sequence[VoucherRow],
    requeues: Sequence[tuple[int, int, str, datetime]],
) -> dict[int, str]:
    """Registration id → reason code, for the entries served ahead (module docstring).

    ``requeues``: (voucher id, household id, outcome, created_at) of the committee.
    """
    by_household: dict[int, list[VoucherRow]] = {}
    for v in sorted(vouchers, key=lambda v: (v.issued_at, v.id)):
        by_household.setdefault(v.household_id, []).append(v)
    live = {v.household_id: v for v in vouchers if v.status in Voucher.LIVE_STATUSES}
    runs = sorted({v.issued_at for v in live.values()})
    if not runs:
        return {}
    dropped = {vid for vid, _h, outcome, _at in requeues if outcome == Requeue.Outcome.DROPPED}
    requeued_at = {
        hid: at for _v, hid, outcome, at in requeues if outcome == Requeue.Outcome.REQUEUED
    }
    positions = _positions(round, entries)
    # Per run: the earliest policy key left waiting, per group (all / not held).
    earliest: list[dict[int, float]] = [{} for _ in runs]
    earliest_verified: list[dict[int, float]] = [{} for _ in runs]
    for e in entries:
        if e.status == Registration.Status.VOID:
            continue
        group, key = positions[e.id]
        for start, until in _waiting_intervals(e, by_household.get(e.household_id, []), dropped):
            first = bisect_right(runs, start)
            last = len(runs) if until is None else bisect_left(runs, until)
            for i in range(first, last):
                if key < earliest[i].get(group, _INF):
                    earliest[i][group] = key
                held = e.status == Registration.Status.PENDING_REVIEW or (
                    e.reviewed_at is not None and e.reviewed_at > runs[i]
                )
                if not held and key < earliest_verified[i].get(group, _INF):
                    earliest_verified[i][group] = key
    reasons: dict[int, str] = {}
    run_index = {t: i for i, t in enumerate(runs)}
    for e in entries:
        voucher = live.get(e.household_id)
        if voucher is None or e.status == Registration.Status.VOID:
            continue
        i = run_index[voucher.issued_at]
        group, key = positions[e.id]
        if earliest[i].get(group, _INF) >= key:
            continue  # served in plain order
        back = requeued_at.get(e.household_id)
        if back is not None and back <= voucher.issued_at:
            reasons[e.id] = "requeued"
        elif earliest_verified[i].get(group, _INF) >= key:
            reasons[e.id] = "review"
        elif e.channel in _OFFLINE and round.offline_reserve_pct:
            reasons[e.id] = "offline_reserve"
    return reasons
