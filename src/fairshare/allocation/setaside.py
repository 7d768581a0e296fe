"""The emergency stock kept out of allocation: the one count of it (``allocation/emergency.py``).

For a pharmacy-day, ``available = confirmed − live voucher packs − set_aside_unused``;
the engine (``engine._plan_read``) and the open-data stock feed (``pharmacy/stockfeed.py``)
both subtract this, so they agree and vouchers plus emergency deliveries never exceed
the supply.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Sum

from fairshare.allocation.models import EmergencyStock, SupplyDay, Voucher
from fairshare.registration.models import Channel


def emergency_used(days: Iterable[int]) -> dict[tuple[int, int, int], int]:
    """(supply day, round, committee) → packs of live emergency vouchers."""
    rows = (
        Voucher.objects.filter(
            supply_day_id__in=list(days),
            status__in=Voucher.LIVE_STATUSES,
            registration__channel=Channel.EMERGENCY,
        )
        .values_list("supply_day_id", "round_id", "committee_id")
        .annotate(n=Sum("packs"))
    )
    return {(d, r, c): n or 0 for d, r, c, n in rows}


def set_aside_unused(days: Iterable[SupplyDay]) -> dict[int, int]:
    """Supply day id → packs set aside for emergency deliveries and not yet delivered.

    A committee's stock counts on every day of its pharmacy within the round's purchase
    dates; what it delivered that day is no longer set aside (it is a live voucher).
    Two queries whatever the number of days.
    """
    days = list(days)
    if not days:
        return {}
    stocks = list(
        EmergencyStock.objects.filter(
            packs__gt=0, committee__pharmacy_id__in={d.pharmacy_id for d in days}
        ).values_list(
            "round_id",
            "committee_id",
            "committee__pharmacy_id",
            "packs",
            "round__valid_from",
            "round__valid_until",
        )
    )
    used = emergency_used(d.pk for d in days)
    unused: dict[int, int] = defaultdict(int)
    for day in days:
        for round_id, committee_id, pharmacy_id, packs, start, end in stocks:
            if pharmacy_id == day.pharmacy_id and start <= day.date <= end:
                left = packs - used.get((day.pk, round_id, committee_id), 0)
                unused[day.pk] += max(0, left)
    return dict(unused)
