"""The allocation engine: confirmed supply of a pharmacy-day → vouchers, in fair order.

``allocation_run`` is the one code path behind the staff page, the API and
``fairshare allocate``. Per pharmacy-day, in ONE ``write_transaction``:

1. lock the SupplyDay row (``core.locking.lock_rows``; SQLite serializes writers with
   ``BEGIN IMMEDIATE``), then, under the lock (``_plan_read``: what to issue, as data),
2. available packs = SupplyDay.packs − packs of its live (issued/redeemed) vouchers −
   the committees' emergency stock not yet delivered that day
   (``setaside.set_aside_unused``), computed from the rows, never from a counter;
   households = available // packs per household (a household's packs are never split);
3. count the waiting registrations (the rule of ``waiting.py``) of the committees the
   pharmacy serves, per committee
   (one GROUP BY), and split the households across committees by waiting count
   (largest remainder, ties by committee code); per committee the numbers taken from
   the requeued, the offline reserve and the general queue follow
   (``setbased.committee_plan``);
4. insert the vouchers set-based (``_write``): one ``INSERT … SELECT`` ranks the waiting
   registrations with window functions in the fair order (requeued, offline reserve,
   the round's policy; see ``setbased``), and gives each pick its pickup slot
   (arithmetic on its pickup rank), its
   fulfilment and a fresh code (``setbased``); then one ``INSERT … SELECT`` of the SMS
   outbox rows from the new vouchers, an AllocationRun record and an audit entry;
5. last, under each committee's queue counter lock (committee-id order), one
   ``allocation`` ledger link per committee that was served (``chain.py``): the served
   queue numbers are read back with one SELECT in issue order.
   No voucher is written from Python; ``result.vouchers`` reads them back only if asked
   (``results.py``).

A re-run issues only what is still unallocated. A dry run computes the same
choice without locking or writing (and returns the previewed vouchers). Vouchers
take the day's current declaration (one current batch per pharmacy-day; see
``services.supply_declare``), a pickup slot (see ``_slot_plan``), and fulfilment
``delivery`` when a roster member lives alone or is mobility impaired (otherwise
``pickup``; committees may switch to proxy). ``tests/allocation/reference.py`` keeps
the previous row-by-row planner, and a property test compares the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.scoping import pharmacy_scope_q
from fairshare.allocation import chain, issue, planning, setbased
from fairshare.allocation.lottery import draw_key, seed_matches
from fairshare.allocation.models import (
    AllocationRun,
    SupplyDay,
    SupplyDeclaration,
    Voucher,
)
from fairshare.allocation.notify import sms_parts
from fairshare.allocation.results import (
    AllocationResult,
    PharmacyResult,
    held_for_review_set,
    last_served_issued,
    last_served_preview,
    vouchers_issued,
    vouchers_preview,
)
from fairshare.allocation.setaside import set_aside_unused
from fairshare.allocation.waiting import waiting_exists
from fairshare.community.models import Committee, Member, Pharmacy
from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict, FieldErrors
from fairshare.core.locking import lock_rows, write_transaction
from fairshare.rounds.models import Round
from fairshare.rounds.selectors import round_committees_q

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


def _pharmacies(
    round: Round, pharmacy: Pharmacy | None, actor: User | None, date: Date
) -> list[Pharmacy]:
    committees = Committee.objects.filter(round_committees_q(round))
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
    actor: User | None = None,
    dry_run: bool = False,
) -> AllocationResult:
    """Issue vouchers for the confirmed, unallocated supply (see the module docstring)."""
    _validate(round, date)
    pharmacies = _pharmacies(round, pharmacy, actor, date)
    committee_ids = list(
        Committee.objects.filter(round_committees_q(round), pharmacy__in=pharmacies).values_list(
            "id", flat=True
        )
    )
    if not waiting_exists(round_id=round.pk, committee_ids=committee_ids):
        raise Conflict(
            _("Nobody is waiting in this round for these pharmacies."), code="nothing_waiting"
        )
    result = AllocationResult(round=round, date=date, dry_run=dry_run)
    for item in pharmacies:
        result.pharmacies.append(_run_one(round, date, item, actor, dry_run))
    return result


@dataclass
class Plan:
    """What one pharmacy-day run issues, read under the SupplyDay lock (pure data)."""

    pharmacy: Pharmacy
    committees: list[Committee]
    packs_available: int
    plans: list[setbased.CommitteePlan]
    by_committee: list[dict[str, Any]]
    day: SupplyDay | None = None
    declaration: SupplyDeclaration | None = None
    picks: setbased.Query | None = None  # the set-based choice, when anything is planned
    valid_until: Date | None = None
    buildings: dict[int, dict[str, int]] | None = None  # per committee: share per label

    def inputs(self) -> list[chain.CommitteeInputs]:
        """The run's inputs per committee, as the ``allocation`` ledger link states them."""
        return [
            chain.CommitteeInputs(
                p.committee_id,
                p.taken,
                p.reserve,
                p.left,
                None if self.buildings is None else self.buildings.get(p.committee_id, {}),
            )
            for p in self.plans
        ]

    @property
    def planned(self) -> int:
        return sum(plan.quota for plan in self.plans)


def _run_one(
    round: Round, date: Date, pharmacy: Pharmacy, actor: User | None, dry_run: bool
) -> PharmacyResult:
    """One pharmacy-day in one transaction: read the plan (locking the SupplyDay unless
    this is a dry run), then preview or write it."""
    context = transaction.atomic() if dry_run else write_transaction()
    with context:
        plan = _plan_read(round=round, date=date, pharmacy=pharmacy, lock=not dry_run)
        result = PharmacyResult(
            pharmacy=pharmacy, packs_available=plan.packs_available, by_committee=plan.by_committee
        )
        if plan.picks is None or plan.valid_until is None:
            return result
        if dry_run:
            preview = vouchers_preview(plan.picks, round, date, plan.valid_until, plan.committees)
            result.load(lambda: preview)
            result.issued = len(preview)
            held_for_review_set(result, round_id=round.pk, last_served=last_served_preview(preview))
        else:
            _write(round=round, date=date, plan=plan, actor=actor, result=result)
    return result


def _plan_read(*, round: Round, date: Date, pharmacy: Pharmacy, lock: bool) -> Plan:
    """What to issue at a pharmacy-day: availability, the committees' plans, the picks.

    With ``lock`` the SupplyDay row is locked first (``lock_rows``; on SQLite the
    transaction's ``BEGIN IMMEDIATE`` is the lock), so a concurrent run waits here
    until this one has written and committed; available packs are counted from the
    live vouchers' rows, never from a counter.
    """
    committees = list(
        Committee.objects.filter(round_committees_q(round), pharmacy=pharmacy)
        .order_by("code")
        .only("id", "code", "name")
    )
    days = SupplyDay.objects.filter(pharmacy=pharmacy, date=date)
    day = (lock_rows(days) if lock else days).first()
    used, declaration = 0, None
    if day is not None:
        used = set_aside_unused([day]).get(day.pk, 0)
        live = Voucher.objects.filter(supply_day=day, status__in=Voucher.LIVE_STATUSES)
        used += live.aggregate(n=Sum("packs"))["n"] or 0
        declaration = (
            SupplyDeclaration.objects.filter(supply_day=day, superseded_by__isnull=True)
            .order_by("-declared_at", "-id")
            .first()
        )
    available = max(0, (day.packs if day else 0) - used)
    households = available // round.packs_per_household if declaration else 0
    counts = setbased.committee_counts(round_id=round.pk, committee_ids=[c.id for c in committees])
    plans, by_committee = _committee_plans(round, pharmacy, committees, households, counts)
    plan = Plan(pharmacy, committees, available, plans, by_committee, day, declaration)
    if plan.planned and day is not None:
        plan.picks, plan.buildings = _picks_query(round, pharmacy, day, plans)
        plan.valid_until = date + timedelta(days=round.voucher_valid_days - 1)
    return plan


def _committee_plans(
    round: Round,
    pharmacy: Pharmacy,
    committees: list[Committee],
    households: int,
    counts: dict[int, tuple[int, int, int]],
) -> tuple[list[setbased.CommitteePlan], list[dict[str, Any]]]:
    """Split ``households`` across the committees by waiting count (largest remainder,
    ties by committee code); per committee the numbers taken from the requeued, the
    offline reserve and the general queue (``setbased.committee_plan``)."""
    waiting = {c.id: counts.get(c.id, (0, 0, 0)) for c in committees}
    quotas = planning.largest_remainder(households, [(c.id, waiting[c.id][0]) for c in committees])
    plans: list[setbased.CommitteePlan] = []
    base = 0
    for c in committees:
        _total, requeued, offline = waiting[c.id]
        plans.append(
            setbased.committee_plan(
                committee_id=c.id,
                base=base,
                quota=quotas[c.id],
                requeued=requeued,
                offline=offline,
                reserve_pct=round.offline_reserve_pct,
            )
        )
        base += plans[-1].quota
    by_committee = [
        {
            "committee": c.code,
            "name": c.name,
            "pharmacy": pharmacy.code,
            "waiting": waiting[c.id][0],
            "issued": plan.quota,
            "held_for_review": 0,
        }
        for c, plan in zip(committees, plans, strict=True)
    ]
    return plans, by_committee


def _write(
    *, round: Round, date: Date, plan: Plan, actor: User | None, result: PharmacyResult
) -> None:
    """Insert the plan's vouchers, their SMS outbox rows, the run record and its audit."""
    pharmacy, day, declaration = plan.pharmacy, plan.day, plan.declaration
    picks, valid_until = plan.picks, plan.valid_until
    if day is None or declaration is None or picks is None or valid_until is None:
        return  # nothing planned (``_plan_read`` sets them together)
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
    result.issued = issue.vouchers_insert(picks, plan.planned, constants)
    if result.issued != plan.planned:  # the queue changed under a concurrent write: recount
        issue.issued_recount(result, day, after_id, plan.committees)
    held_for_review_set(result, round_id=round.pk, last_served=last_served_issued(day.pk, after_id))
    parts = sms_parts(
        pharmacy=pharmacy,
        declaration=declaration,
        on=date,
        until=valid_until,
        packs=round.packs_per_household,
    )
    setbased.insert_sms(
        supply_day_id=day.pk,
        after_id=after_id,
        parts=parts,
        constants={"kind": "sms", "available_at": now, "created_at": now},
    )
    last_id = Voucher.objects.filter(supply_day=day).aggregate(n=Max("id"))["n"] or 0
    result.load(lambda: vouchers_issued(day.pk, after_id, last_id))
    run = _record_run(round=round, date=date, plan=plan, actor=actor, result=result, now=now)
    # Last, under each committee's counter lock: the run's ledger links (chain.py).
    served = chain.served_in_issue_order(supply_day_id=day.pk, after_id=after_id)
    chain.allocation_links_append(
        round=round, run=run, pharmacy=pharmacy, inputs=plan.inputs(), served=served, now=now
    )


def _record_run(
    *,
    round: Round,
    date: Date,
    plan: Plan,
    actor: User | None,
    result: PharmacyResult,
    now: datetime,
) -> AllocationRun:
    """The AllocationRun row of a written run and its audit entry."""
    assert plan.day is not None
    run = AllocationRun.objects.create(
        round=round,
        pharmacy=plan.pharmacy,
        supply_day=plan.day,
        date=date,
        ran_at=now,  # = the vouchers' issued_at: how verify_ledger finds a run's vouchers
        actor=actor if actor is not None and actor.is_authenticated else None,
        packs_available=result.packs_available,
        issued=result.issued,
        by_committee=result.by_committee,
    )
    audit_record(
        actor=actor,
        action="allocation.run",
        obj=run,
        after={"issued": result.issued, "by_committee": result.by_committee},
        subdistrict_id=plan.pharmacy.subdistrict_id,
        pharmacy_id=plan.pharmacy.id,
    )
    return run


def _picks_query(
    round: Round, pharmacy: Pharmacy, day: SupplyDay, plans: list[setbased.CommitteePlan]
) -> tuple[setbased.Query, dict[int, dict[str, int]] | None]:
    """The set-based choice for the round's policy (see ``setbased``), and the building
    shares per committee (by building label) under the per-building policy."""
    committee_ids = [p.committee_id for p in plans]
    lottery = shares = labels = None
    if round.policy == Round.Policy.LOTTERY:
        seed, first = round.lottery_seed, round.carried_first
        rows = setbased.waiting_draws(round_id=round.pk, committee_ids=committee_ids)
        rows.sort(
            key=lambda row: draw_key(
                seed, link_hash=row[2], queue_number=row[1], carried=row[3], carried_first=first
            )
        )
        lottery = [row[0] for row in rows]
    elif round.policy == Round.Policy.PER_BUILDING:
        by_committee: dict[int, list[tuple[tuple[int, str, int], int]]] = {}
        for cid, bid, order, label, size in setbased.building_pool_counts(
            round_id=round.pk, plans=plans
        ):
            by_committee.setdefault(cid, []).append(((order, label, bid), size))
        shares, labels = {}, {}
        for plan in plans:
            groups = sorted(by_committee.get(plan.committee_id, []))
            split = planning.even_split(plan.left, groups)
            shares.update({key[2]: n for key, n in split.items() if n})
            labels[plan.committee_id] = {key[1]: n for key, n in split.items()}
    slots = _slot_plan(pharmacy, day)
    flagged = Member.objects.filter(household__committee_id__in=committee_ids).filter(
        Q(lives_alone=True) | Q(mobility_impaired=True)
    )
    query = setbased.picks_query(
        delivery=flagged.exists(),
        round_id=round.pk,
        plans=plans,
        lottery=lottery,
        shares=shares,
        segments=setbased.slot_segments(slots, pharmacy.slot_minutes * 60),
        step=pharmacy.slot_minutes * 60,
        close=setbased.seconds(pharmacy.closes_at),
    )
    return query, labels
