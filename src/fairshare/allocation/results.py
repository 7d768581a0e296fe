"""The result of an allocation run, and the read-back of the vouchers it issued or previewed.

A run of 100,000 vouchers moves no row through Python (``engine.py``): ``PharmacyResult``
only keeps a loader (``vouchers_issued`` or a dry run's ``vouchers_preview``) and reads the
vouchers when a caller asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date as Date
from typing import Any

from django.db import connection
from django.db.models import Max

from fairshare.allocation import setbased
from fairshare.allocation.bulk import IssuedVoucher
from fairshare.allocation.models import Voucher
from fairshare.allocation.waiting import held_ahead_counts
from fairshare.community.models import Committee, Pharmacy
from fairshare.rounds.models import Round


@dataclass
class PharmacyResult:
    pharmacy: Pharmacy
    packs_available: int = 0
    by_committee: list[dict[str, Any]] = field(default_factory=list)
    issued: int = 0
    # Registrations pending review ahead of the last number served (docs/fairness.md).
    held_for_review: int = 0
    _loader: Callable[[], list[IssuedVoucher]] | None = field(default=None, repr=False)
    _vouchers: list[IssuedVoucher] | None = field(default=None, repr=False)

    def load(self, loader: Callable[[], list[IssuedVoucher]]) -> None:
        self._loader, self._vouchers = loader, None

    @property
    def vouchers(self) -> list[IssuedVoucher]:
        """The issued (or, in a dry run, previewed) vouchers in issue order, read on demand:
        a 100,000-voucher run never builds them unless a caller asks."""
        if self._vouchers is None:
            self._vouchers = self._loader() if self._loader is not None else []
        return self._vouchers


@dataclass
class AllocationResult:
    round: Round
    date: Date
    dry_run: bool
    pharmacies: list[PharmacyResult] = field(default_factory=list)

    @property
    def issued(self) -> int:
        return sum(p.issued for p in self.pharmacies)

    @property
    def vouchers(self) -> list[IssuedVoucher]:
        return [v for p in self.pharmacies for v in p.vouchers]

    @property
    def held_for_review(self) -> int:
        return sum(p.held_for_review for p in self.pharmacies)

    @property
    def by_committee(self) -> list[dict[str, Any]]:
        return [row for p in self.pharmacies for row in p.by_committee]

    def packs_unused_at(self, pharmacy: PharmacyResult) -> int:
        """Packs of the pharmacy-day the run left (or, in a dry run, would leave) unused."""
        return max(0, pharmacy.packs_available - pharmacy.issued * self.round.packs_per_household)

    @property
    def unused_by_pharmacy(self) -> list[tuple[str, int]]:
        return [(p.pharmacy.code, self.packs_unused_at(p)) for p in self.pharmacies]

    @property
    def packs_unused(self) -> int:
        return sum(self.packs_unused_at(p) for p in self.pharmacies)


def vouchers_preview(
    picks: setbased.Query,
    round: Round,
    date: Date,
    valid_until: Date,
    committees: Sequence[Committee],
) -> list[IssuedVoucher]:
    """The vouchers a run would issue (dry run: no codes)."""
    codes = {c.id: c.code for c in committees}
    with connection.cursor() as cursor:
        cursor.execute(picks.sql, picks.params)
        rows = cursor.fetchall()
    return [
        IssuedVoucher(
            registration_id=rid,
            household_id=hid,
            committee_id=cid,
            committee_code=codes[cid],
            queue_number=qn,
            phone="",
            date=date,
            valid_until=valid_until,
            packs=round.packs_per_household,
            fulfilment=Voucher.Fulfilment.DELIVERY if dlv else Voucher.Fulfilment.PICKUP,
            slot_start=setbased.time_of(s),
            slot_end=setbased.time_of(e) if s is not None else None,
        )
        for _k, rid, hid, cid, qn, dlv, s, e in rows
    ]


def vouchers_issued(day_id: int, after_id: int, last_id: int) -> list[IssuedVoucher]:
    """The vouchers a run issued, in issue order (read back when a caller asks for them)."""
    rows = (
        Voucher.objects.filter(supply_day_id=day_id, id__gt=after_id, id__lte=last_id)
        .order_by("id")
        .values_list(
            "registration_id",
            "household_id",
            "committee_id",
            "committee__code",
            "registration__queue_number",
            "registration__phone",
            "date",
            "valid_until",
            "packs",
            "fulfilment",
            "slot_start",
            "slot_end",
            "code",
        )
    )
    return [IssuedVoucher(*row) for row in rows]


def last_served_preview(preview: Sequence[IssuedVoucher]) -> dict[int, int]:
    """Per committee, the highest queue number a dry run would serve."""
    last: dict[int, int] = {}
    for voucher in preview:
        last[voucher.committee_id] = max(last.get(voucher.committee_id, 0), voucher.queue_number)
    return last


def last_served_issued(day_id: int, after_id: int) -> dict[int, int]:
    """Per committee, the highest queue number a run served (one GROUP BY, no rows)."""
    rows = (
        Voucher.objects.filter(supply_day_id=day_id, id__gt=after_id)
        .values_list("committee_id")
        .annotate(last=Max("registration__queue_number"))
    )
    return {committee_id: last for committee_id, last in rows}


def held_for_review_set(
    result: PharmacyResult, *, round_id: int, last_served: dict[int, int]
) -> None:
    """Count, per committee and in total, the registrations held for review that the run
    passed over: pending review with a queue number below the last one it served."""
    counts = held_ahead_counts(round_id=round_id, last_served=last_served)
    result.held_for_review = sum(counts.values())
    if not counts:
        return
    codes = dict(Committee.objects.filter(id__in=counts).values_list("code", "id"))
    for row in result.by_committee:
        row["held_for_review"] = counts.get(codes.get(row["committee"], -1), 0)
