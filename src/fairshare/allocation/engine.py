"""The allocation engine: confirmed supply of a pharmacy-day → vouchers, in fair order.

``allocation_run`` is the one code path behind the staff page, the API and
``fairshare allocate``. Per pharmacy-day, in ONE ``write_transaction``:

1. lock the SupplyDay row (``select_for_update``; SQLite serializes writers with
   ``BEGIN IMMEDIATE``), then, under the lock,
2. available packs = SupplyDay.packs − packs of its live (issued/redeemed) vouchers,
   computed from the rows, never from a counter; households = available // packs per
   household (a household's packs are never split);
3. count the waiting registrations (live registration, no live voucher in the round,
   not dropped after an expiry) of the committees the pharmacy serves, per committee
   (one GROUP BY), and split the households across committees by waiting count
   (largest remainder, ties by committee code); per committee the numbers taken from
   the requeued, the offline reserve and the general queue follow
   (``setbased.committee_plan``);
4. insert the vouchers set-based: one ``INSERT … SELECT`` ranks the waiting
   registrations with window functions exactly as ``planning.committee_pick`` orders
   them, and gives each pick its pickup slot (arithmetic on its pickup rank), its
   fulfilment and a fresh code (``setbased``); then one ``INSERT … SELECT`` of the SMS
   outbox rows from the new vouchers, an AllocationRun record and an audit entry.
   No row passes through Python; ``result.vouchers`` reads them back only if asked.

A re-run issues only what is still unallocated. A dry run computes the same
choice without locking or writing (and returns the previewed vouchers). Vouchers
take the day's current declaration (one current batch per pharmacy-day; see
``services.supply_declare``), a pickup slot (see ``_slot_plan``), and fulfilment
``delivery`` when a roster member lives alone or is mobility impaired (otherwise
``pickup``; committees may switch to proxy). ``tests/allocation/reference.py`` keeps
the previous row-by-row planner, and a property test compares the two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.scoping import pharmacy_scope_q
from fairshare.allocation import planning, setbased
from fairshare.allocation.bulk import IssuedVoucher
from fairshare.allocation.lottery import rank_key, seed_matches
from fairshare.allocation.models import (
    AllocationRun,
    Requeue,
    SupplyDay,
    SupplyDeclaration,
    Voucher,
)
from fairshare.allocation.notify import sms_parts
from fairshare.allocation.tokens import codes_new_packed
from fairshare.community.models import Committee, Member, Pharmacy
from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict, FieldErrors
from fairshare.core.locking import Busy, write_transaction
from fairshare.registration.models import Registration
from fairshare.rounds.models import Round


@dataclass
class PharmacyResult:
    pharmacy: Pharmacy
    packs_available: int = 0
    by_committee: list[dict[str, Any]] = field(default_factory=list)
    issued: int = 0
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
        round=round, committee_id__in=committee_ids, status__in=Voucher.LIVE_STATUSES
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
        Voucher.objects.filter(
            supply_day=day, status__in=Voucher.LIVE_STATUSES, slot_start__isnull=False
        )
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
                Voucher.objects.filter(supply_day=day, status__in=Voucher.LIVE_STATUSES).aggregate(
                    n=Sum("packs")
                )["n"]
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
        counts = setbased.committee_counts(
            round_id=round.pk, committee_ids=[c.id for c in committees]
        )
        if _after_read is not None:
            _after_read()
        waiting = {c.id: counts.get(c.id, (0, 0, 0)) for c in committees}
        quotas = planning.largest_remainder(
            households, [(c.id, waiting[c.id][0]) for c in committees]
        )
        plans, base = [], 0
        for c in committees:
            plans.append(
                setbased.committee_plan(
                    committee_id=c.id,
                    base=base,
                    quota=quotas[c.id],
                    requeued=waiting[c.id][1],
                    offline=waiting[c.id][2],
                    reserve_pct=round.offline_reserve_pct,
                )
            )
            base += plans[-1].quota
        result.by_committee = [
            {
                "committee": c.code,
                "name": c.name,
                "pharmacy": pharmacy.code,
                "waiting": waiting[c.id][0],
                "issued": plan.quota,
            }
            for c, plan in zip(committees, plans, strict=True)
        ]
        planned = sum(plan.quota for plan in plans)
        if not planned:
            return result
        picks = _picks_query(round, pharmacy, day, plans)
        valid_until = date + timedelta(days=round.voucher_valid_days - 1)
        if dry_run:
            preview = _preview(picks, round, date, valid_until, committees)
            result.load(lambda: preview)
            result.issued = len(preview)
            return result
        now = timezone.now()
        after_id = Voucher.objects.aggregate(n=Max("id"))["n"] or 0
        constants = {
            "round_id": round.pk,
            "pharmacy_id": pharmacy.pk,
            "supply_day_id": day.pk,
            "declaration_id": declaration.pk,
            "date": date,
            "valid_until": valid_until,
            "packs": round.packs_per_household,
            "status": Voucher.Status.ISSUED,
            "issued_at": now,
        }
        result.issued = _insert(picks, planned, constants)
        if result.issued != planned:  # the queue changed under a concurrent write: recount
            _recount(result, day, after_id, committees)
        setbased.insert_sms(
            supply_day_id=day.pk,
            after_id=after_id,
            parts=sms_parts(
                pharmacy=pharmacy,
                declaration=declaration,
                on=date,
                until=valid_until,
                packs=round.packs_per_household,
            ),
            constants={"kind": "sms", "available_at": now, "created_at": now},
        )
        last_id = Voucher.objects.filter(supply_day=day).aggregate(n=Max("id"))["n"] or 0
        result.load(lambda: _issued(day.pk, after_id, last_id))
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


def _picks_query(round: Round, pharmacy: Pharmacy, day: SupplyDay, plans) -> setbased.Query:
    """The set-based choice for the round's policy (see ``setbased``)."""
    committee_ids = [p.committee_id for p in plans]
    lottery = shares = None
    if round.policy == Round.Policy.LOTTERY:
        seed = round.lottery_seed
        rows = setbased.waiting_tickets(round_id=round.pk, committee_ids=committee_ids)
        rows.sort(key=lambda row: (rank_key(seed, row[1]), row[1]))
        lottery = [row[0] for row in rows]
    elif round.policy == Round.Policy.PER_BUILDING:
        by_committee: dict[int, list] = {}
        for cid, bid, order, label, size in setbased.building_pool_counts(
            round_id=round.pk, plans=plans
        ):
            by_committee.setdefault(cid, []).append(((order, label, bid), size))
        shares = {}
        for plan in plans:
            groups = sorted(by_committee.get(plan.committee_id, []))
            split = planning.even_split(plan.left, groups)
            shares.update({key[2]: n for key, n in split.items() if n})
    slots = _slot_plan(pharmacy, day)
    flagged = Member.objects.filter(household__committee_id__in=committee_ids).filter(
        Q(lives_alone=True) | Q(mobility_impaired=True)
    )
    return setbased.picks_query(
        delivery=flagged.exists(),
        round_id=round.pk,
        plans=plans,
        lottery=lottery,
        shares=shares,
        segments=setbased.slot_segments(slots, pharmacy.slot_minutes * 60),
        step=pharmacy.slot_minutes * 60,
        close=setbased.seconds(pharmacy.closes_at),
    )


def _preview(picks, round, date, valid_until, committees) -> list[IssuedVoucher]:
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


def _issued(day_id: int, after_id: int, last_id: int) -> list[IssuedVoucher]:
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


def _recount(result: PharmacyResult, day: SupplyDay, after_id: int, committees) -> None:
    issued = dict(
        Voucher.objects.filter(supply_day=day, id__gt=after_id)
        .values_list("committee_id")
        .annotate(n=Count("id"))
    )
    codes = {c.code: c.id for c in committees}
    for row in result.by_committee:
        row["issued"] = issued.get(codes[row["committee"]], 0)


def _insert(picks: setbased.Query, count: int, constants: dict[str, Any]) -> int:
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
