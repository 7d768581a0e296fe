"""The voucher INSERT of an allocation run with its retry on a code collision, and the
per-committee recount after a concurrent change (``engine._write``)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count

from fairshare.allocation import setbased
from fairshare.allocation.models import SupplyDay, Voucher
from fairshare.allocation.results import PharmacyResult
from fairshare.allocation.tokens import codes_new_packed
from fairshare.community.models import Committee
from fairshare.core.locking import Busy


def issued_recount(
    result: PharmacyResult, day: SupplyDay, after_id: int, committees: list[Committee]
) -> None:
    issued = dict(
        Voucher.objects.filter(supply_day=day, id__gt=after_id)
        .values_list("committee_id")
        .annotate(n=Count("id"))
    )
    codes = {c.code: c.id for c in committees}
    for row in result.by_committee:
        row["issued"] = issued.get(codes[row["committee"]], 0)


def vouchers_insert(picks: setbased.Query, count: int, constants: dict[str, Any]) -> int:
    """INSERT the picks with fresh codes; new codes on the (rare) code collision.

    Uniqueness is left to the unique index: a collision with a stored code or within
    the batch (about 1 in 20,000 runs of 100,000 with 25^10 codes) makes the insert
    fail and it is retried with fresh codes.
    """
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return setbased.insert_vouchers(
                    picks, codes=codes_new_packed(count), constants=constants
                )
        except IntegrityError as exc:
            text = str(exc)
            if "code" not in text or "household" in text or "live" in text:
                # Another run (a different day of the same pharmacy) served one of these
                # households meanwhile; retrying recomputes the queue.
                raise Busy() from exc
    raise Busy()
