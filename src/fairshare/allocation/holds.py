"""The allocation app's answer to ``registration/holds.py``: live vouchers by household."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Q

from fairshare.allocation.models import Voucher, VoucherStatus
from fairshare.allocation.services import round_lock
from fairshare.registration.holds import VoucherHold
from fairshare.rounds.models import Round


def live_voucher_probe(
    pairs: Collection[tuple[int, int]], lock: bool
) -> dict[tuple[int, int], VoucherHold]:
    """The live vouchers (``Voucher.LIVE_STATUSES``) of (round id, household id) pairs;
    with ``lock`` each round's row is locked first, as an allocation of it does."""
    if lock:
        for round_id in sorted({round_id for round_id, _household in pairs}):
            round_lock(round=Round(pk=round_id))
    wanted = Q(pk__in=[])
    for round_id in {r for r, _h in pairs}:
        wanted |= Q(round_id=round_id, household_id__in=[h for r, h in pairs if r == round_id])
    rows = Voucher.objects.filter(wanted, status__in=Voucher.LIVE_STATUSES).values_list(
        "round_id", "household_id", "status"
    )
    return {
        (round_id, household_id): VoucherHold(status=status, label=str(VoucherStatus(status).label))
        for round_id, household_id, status in rows
    }
