"""The allocation engine: confirmed supply of a pharmacy-day → vouchers, in fair order.

``allocation_run`` is the one code path behind the staff page, the API and
``fairshare allocate``. Per pharmacy-day, in ONE ``write_transaction``:

1. lock the SupplyDay row (``select_for_update``; SQLite serializes writers with
   ``BEGIN IMMEDIATE``), then, under the lock,
2. available packs = SupplyDay.packs − packs of its live (issued/redeemed) vouchers,
   computed from the rows, never from a counter; households = available // packs per
   household (a household's packs are never split);
3. read the waiting registrations (live registration, no live voucher in the round,
   not dropped after an expiry) of the committees the pharmacy serves;
4. split the households across committees by waiting count (largest remainder, ties
   by committee code), then pick within each committee (``planning.committee_pick``);
5. insert the vouchers set-based (``bulk.insert_rows``: one COPY on PostgreSQL, one
   ``executemany`` on SQLite; no model object or save per voucher), one SMS outbox
   row per voucher the same way, an AllocationRun record and an audit entry.

A re-run issues only what is still unallocated. A dry run computes the same
choice without locking or writing. Vouchers take the day's current declaration
(one current batch per pharmacy-day; see ``services.supply_declare``), a pickup
slot (see ``_slot_plan``), and fulfilment ``delivery`` when a roster member lives
alone or is mobility impaired (otherwise ``pickup``; committees may switch to proxy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.scoping import pharmacy_scope_q
from fairshare.allocation import planning
from fairshare.allocation.bulk import IssuedVoucher, insert_rows
from fairshare.allocation.lottery import seed_matches
from fairshare.allocation.models import (
    AllocationRun,
    Requeue,
    SupplyDay,
    SupplyDeclaration,
    Voucher,
)
from fairshare.allocation.notify import voucher_sms_rows
from fairshare.allocation.tokens import codes_new
from fairshare.community.models import Committee, Member, Pharmacy
from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict, FieldErrors
from fairshare.core.locking import Busy, write_transaction
from fairshare.registration.models import OFFLINE_CHANNELS, Registration
from fairshare.rounds.models import Round

LIVE = (Voucher.Status.ISSUED, Voucher.Status.REDEEMED)
_OFFLINE = {str(c) for c in OFFLINE_CHANNELS}
_BATCH = 2000


@dataclass
class PharmacyResult:
    pharmacy: Pharmacy
    packs_available: int = 0
    by_committee: list[dict[str, Any]] = field(default_factory=list)
    vouchers: list[IssuedVoucher] = field(default_factory=list)

    @property
    def issued(self) -> int:
        return len(self.vouchers)


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
    def by_committee(self) -> list[dict[str, Any]]:
        return [row for p in self.pharmacies for row in p.by_committee]


def waiting_registrations(*, round: Round, committee_ids: list[int]):
    """Live registrations of the round with no live voucher and not dropped (a queryset).

    Written as ``NOT IN (subquery)`` so both databases hash the excluded households
    once (PostgreSQL: hashed subplan; SQLite: a temporary index) whatever the table
    statistics say; a correlated ``NOT EXISTS`` degraded to a nested loop on
    PostgreSQL right after a bulk load (stale statistics).
    """
    live = Voucher.objects.filter(
        round=round, committee_id__in=committee_ids, status__in=LIVE
    ).values("household_id")
    dropped = Requeue.objects.filter(round=round, outcome=Requeue.Outcome.DROPPED).values(
        "household_id"
    )
    return (
        Registration.objects.filter(round=round, committee_id__in=committee_ids)
        .exclude(status=Registration.Status.VOID)
        .exclude(household_id__in=live)
        .exclude(household_id__in=dropped)
    )


def _candidates(round: Round, committee_ids: list[int]) -> list[planning.Candidate]:
    requeued = {
        household_id: (created_at, pk)
        for household_id, created_at, pk in Requeue.objects.filter(
            round=round,
            outcome=Requeue.Outcome.REQUEUED,
            household__committee_id__in=committee_ids,
        ).values_list("household_id", "created_at", "id")
    }
    rows = (
        waiting_registrations(round=round, committee_ids=committee_ids)
        .order_by("committee_id", "queue_number")
        .values_list(
            "id",
            "household_id",
            "committee_id",
            "queue_number",
            "ticket",
            "channel",
            "household__building__sort_order",
            "household__building__label",
            "household__building_id",
            "phone",
        )
    )
    return [
        planning.Candidate(
            registration_id=r[0],
            household_id=r[1],
            committee_id=r[2],
            queue_number=r[3],
            ticket=r[4],
            offline=r[5] in _OFFLINE,
            building=(r[6], r[7], r[8]),
            priority=requeued.get(r[1]),
            phone=r[9],
        )
        for r in rows.iterator(chunk_size=5000)
    ]


# Time to send the SMS and walk to the pharmacy: today's slots ending sooner are skipped.
SLOT_LEAD = timedelta(minutes=30)


def _local_now() -> datetime:
    return timezone.localtime()


def _slot_plan(pharmacy: Pharmacy, day: SupplyDay) -> list[list[Any]]:
    """Pickup slots of the day as [start, end, free places], earliest first.

    Slots run from ``opens_at`` in steps of ``slot_minutes`` (the last one ends at
    ``closes_at``), each for ``customers_per_slot`` people, minus the live vouchers
    already holding it. Slots fill in order; when the day is full, later vouchers
    get no slot ("any time during opening hours"). Delivery vouchers take no slot.
    When the vouchers are for today, slots that end before residents can be told and
    get there (``SLOT_LEAD``) are skipped.
    """
    taken = dict(
        Voucher.objects.filter(supply_day=day, status__in=LIVE, slot_start__isnull=False)
        .values_list("slot_start")
        .annotate(n=Count("id"))
    )
    plan: list[list[Any]] = []
    start = datetime.combine(day.date, pharmacy.opens_at)
    close = datetime.combine(day.date, pharmacy.closes_at)
    step = timedelta(minutes=pharmacy.slot_minutes)
    now = _local_now()
    earliest_end = (now + SLOT_LEAD).replace(tzinfo=None) if day.date == now.date() else None
    while start < close:
        end = min(start + step, close)
        free = pharmacy.customers_per_slot - taken.get(start.time(), 0)
        if free > 0 and (earliest_end is None or end > earliest_end):
            plan.append([start.time(), end.time(), free])
        start = end
    return plan


def _validate(round: Round, date: Date) -> None:
    if round.status not in (Round.Status.OPEN, Round.Status.CLOSED):
        raise Conflict(_("This round is not open or closed; vouchers cannot be issued."))
    if not (round.valid_from <= date <= round.valid_until):
        raise FieldErrors({"date": [_("The date is outside the round's purchase dates.")]})
    if round.policy == Round.Policy.LOTTERY and not seed_matches(
        round.lottery_seed, round.lottery_commitment
    ):
        raise Conflict(
            _("The lottery seed has not been revealed (or does not match its commitment).")
        )


def _pharmacies(round: Round, pharmacy: Pharmacy | None, actor: Any, date: Date) -> list:
    committees = Committee.objects.filter(subdistrict__district_id=round.district_id)
    pharmacies = Pharmacy.objects.filter(
        Exists(committees.filter(pharmacy_id=OuterRef("pk")))
    ).order_by("id")
    if actor is not None:
        pharmacies = pharmacies.filter(pharmacy_scope_q(actor)).distinct()
    if pharmacy is not None:
        if not pharmacies.filter(pk=pharmacy.pk).exists():
            raise FieldErrors(
                {"pharmacy": [_("This pharmacy serves no committee of the round in your area.")]}
            )
        if not SupplyDay.objects.filter(pharmacy=pharmacy, date=date).exists():
            raise Conflict(_("No supply has been declared for this date."), code="no_supply")
        return [pharmacy]
    found = list(pharmacies.filter(supply_days__date=date))
    if not found:
        raise Conflict(_("No supply has been declared for this date."), code="no_supply")
    return found


def allocation_run(
    *,
    round: Round,
    date: Date,
    pharmacy: Pharmacy | None = None,
    actor: Any = None,
    dry_run: bool = False,
    _lock: bool = True,
    _after_read: Callable[[], None] | None = None,
) -> AllocationResult:
    """Issue vouchers for the confirmed, unallocated supply (see the module docstring).

    ``_lock`` and ``_after_read`` are private test switches: ``_lock=False`` skips the
    SupplyDay row lock (only the race test uses it, to show the race is real) and
    ``_after_read`` is called after availability and the queue were read.
    """
    _validate(round, date)
    pharmacies = _pharmacies(round, pharmacy, actor, date)
    committee_ids = list(
        Committee.objects.filter(
            subdistrict__district_id=round.district_id, pharmacy__in=pharmacies
        ).values_list("id", flat=True)
    )
    if not waiting_registrations(round=round, committee_ids=committee_ids).exists():
        raise Conflict(
            _("Nobody is waiting in this round for these pharmacies."), code="nothing_waiting"
        )
    result = AllocationResult(round=round, date=date, dry_run=dry_run)
    for item in pharmacies:
        result.pharmacies.append(
            _run_one(round, date, item, actor, dry_run, _lock=_lock, _after_read=_after_read)
        )
    return result


def _run_one(
    round: Round,
    date: Date,
    pharmacy: Pharmacy,
    actor: Any,
    dry_run: bool,
    *,
    _lock: bool,
    _after_read: Callable[[], None] | None,
) -> PharmacyResult:
    committees = list(
        Committee.objects.filter(subdistrict__district_id=round.district_id, pharmacy=pharmacy)
        .order_by("code")
        .only("id", "code", "name")
    )
    result = PharmacyResult(pharmacy=pharmacy)
    context = transaction.atomic() if dry_run else write_transaction()
    with context:
        days = SupplyDay.objects.filter(pharmacy=pharmacy, date=date)
        if _lock and not dry_run:
            days = days.select_for_update()
        day = days.first()
        used = 0
        if day is not None:
            used = (
                Voucher.objects.filter(supply_day=day, status__in=LIVE).aggregate(n=Sum("packs"))[
                    "n"
                ]
                or 0
            )
        declaration = (
            SupplyDeclaration.objects.filter(supply_day=day, superseded_by__isnull=True)
            .order_by("-declared_at", "-id")
            .first()
            if day is not None
            else None
        )
        result.packs_available = max(0, (day.packs if day else 0) - used)
        households = result.packs_available // round.packs_per_household if declaration else 0
        candidates = _candidates(round, [c.id for c in committees])
        if _after_read is not None:
            _after_read()
        per_committee: dict[int, list[planning.Candidate]] = {c.id: [] for c in committees}
        for cand in candidates:
            per_committee[cand.committee_id].append(cand)
        quotas = planning.largest_remainder(
            households, [(c.id, len(per_committee[c.id])) for c in committees]
        )
        picks: list[planning.Candidate] = []
        for c in committees:
            chosen = planning.committee_pick(
                per_committee[c.id],
                quotas[c.id],
                policy=round.policy,
                reserve_pct=round.offline_reserve_pct,
                seed=round.lottery_seed,
            )
            picks.extend(chosen)
            result.by_committee.append(
                {
                    "committee": c.code,
                    "name": c.name,
                    "pharmacy": pharmacy.code,
                    "waiting": len(per_committee[c.id]),
                    "issued": len(chosen),
                }
            )
        if not picks:
            return result
        result.vouchers = _build(
            round, date, pharmacy, day, picks, {c.id: c.code for c in committees}
        )
        if dry_run:
            return result
        now = timezone.now()
        _insert(
            result.vouchers,
            {
                "round_id": round.pk,
                "pharmacy_id": pharmacy.pk,
                "supply_day_id": day.pk,
                "declaration_id": declaration.pk,
                "date": date,
                "valid_until": result.vouchers[0].valid_until,
                "packs": round.packs_per_household,
                "status": Voucher.Status.ISSUED,
                "issued_at": now,
            },
        )
        voucher_sms_rows(result.vouchers, pharmacy=pharmacy, declaration=declaration, now=now)
        run = AllocationRun.objects.create(
            round=round,
            pharmacy=pharmacy,
            supply_day=day,
            date=date,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            packs_available=result.packs_available,
            issued=result.issued,
            by_committee=result.by_committee,
        )
        audit_record(
            actor=actor,
            action="allocation.run",
            obj=run,
            after={"issued": result.issued, "by_committee": result.by_committee},
            subdistrict_id=pharmacy.subdistrict_id,
            pharmacy_id=pharmacy.id,
        )
    return result


def _build(round, date, pharmacy, day, picks, codes: dict[int, str]) -> list[IssuedVoucher]:
    committee_ids = {p.committee_id for p in picks}
    flagged = set(
        Member.objects.filter(household__committee_id__in=committee_ids)
        .filter(Q(lives_alone=True) | Q(mobility_impaired=True))
        .values_list("household_id", flat=True)
    )
    slots = _slot_plan(pharmacy, day)
    valid_until = date + timedelta(days=round.voucher_valid_days - 1)
    vouchers = []
    slot_index = 0
    for pick in picks:
        delivery = pick.household_id in flagged
        start: time | None = None
        end: time | None = None
        if not delivery:
            while slot_index < len(slots) and slots[slot_index][2] <= 0:
                slot_index += 1
            if slot_index < len(slots):
                start, end = slots[slot_index][0], slots[slot_index][1]
                slots[slot_index][2] -= 1
        vouchers.append(
            IssuedVoucher(
                registration_id=pick.registration_id,
                household_id=pick.household_id,
                committee_id=pick.committee_id,
                committee_code=codes[pick.committee_id],
                queue_number=pick.queue_number,
                phone=pick.phone,
                date=date,
                valid_until=valid_until,
                packs=round.packs_per_household,
                fulfilment=Voucher.Fulfilment.DELIVERY if delivery else Voucher.Fulfilment.PICKUP,
                slot_start=start,
                slot_end=end,
            )
        )
    return vouchers


def _fresh_codes(count: int) -> list[str]:
    """``count`` distinct new codes (``tokens.codes_new``).

    Uniqueness against stored vouchers is left to the unique index: a collision
    (about 1 in 10^9 per run of 100,000 with 25^10 codes) makes the insert fail and
    ``_insert`` retries the batch with fresh codes.
    """
    codes: set[str] = set()
    while len(codes) < count:
        codes.update(codes_new(count - len(codes)))
    return list(codes)


_VOUCHER_COLUMNS = (
    "registration_id",
    "household_id",
    "committee_id",
    "slot_start",
    "slot_end",
    "fulfilment",
    "code",
)


def _insert(vouchers: list[IssuedVoucher], constants: dict[str, Any]) -> None:
    """Insert the vouchers set-based; fresh codes on the (rare) code collision."""
    for _attempt in range(3):
        for voucher, code in zip(vouchers, _fresh_codes(len(vouchers)), strict=True):
            voucher.code = code
        rows = [
            (
                v.registration_id,
                v.household_id,
                v.committee_id,
                v.slot_start,
                v.slot_end,
                v.fulfilment,
                v.code,
            )
            for v in vouchers
        ]
        try:
            with transaction.atomic():
                insert_rows(Voucher, columns=_VOUCHER_COLUMNS, rows=rows, constants=constants)
            return
        except IntegrityError as exc:
            text = str(exc)
            if "code" not in text or "household" in text or "live" in text:
                # Another run (a different day of the same pharmacy) served one of these
                # households meanwhile; retrying recomputes the queue.
                raise Busy() from exc
    raise Busy()
