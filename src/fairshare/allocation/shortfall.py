"""Supply shortfall: a confirmed pharmacy-day lowered below what was already issued.

A delivery that falls short leaves vouchers out for packs the pharmacy will not have.
``supply_shortfall`` lowers the day, in ONE ``write_transaction`` under the SupplyDay
lock (the one declarations and the allocation engine take, ``supplyday``), so no run
can issue against the old figure meanwhile:

1. The day's live packs are counted from the rows. If the packs already **bought**
   exceed the new figure it refuses (field ``packs``): a sale cannot be undone.
2. The **latest-issued unbought** vouchers (``issued_at``, then id, newest first) are
   cancelled, one at a time, until the live packs are at most the new figure; a bought
   voucher is never touched. Each committee's queue counter is locked (committee-id
   order), then the chosen vouchers (``core/locking.py`` rule 3: supply → counter →
   voucher); a voucher bought between the read and its lock makes the operation
   ``Busy`` (retry) rather than cancel a sale.
3. Each household goes back to the **head of the queue**: a ``Requeue`` row (outcome
   ``requeued``, reason ``shortfall``), so the engine's requeued class serves it first
   at the next allocation. A shortfall is not the household's fault, so it does not use
   up the one expiry requeue (``services.voucher_expire_due`` counts expiry rows only):
   if the new voucher expires too, the household is requeued once more.
4. Order: the cancelled households go back in their **original issue order** (oldest
   voucher first). The engine issued them in fair order, so the one that was ahead
   stays ahead; the requeue rows are written in that order (the engine orders the
   requeued class by requeue time, then row id) and each committee's ``shortfall``
   ledger link lists the queue numbers in that same order, which is the order they
   will be served in.
5. A new declaration supersedes the current one with the same batch and the lower
   packs (history kept, ``SupplyDay.packs`` = the current declaration's packs), one
   ``shortfall`` SMS per household with a mobile phone (outbox: sent after commit);
   households without one are on the committee's notify-by-hand list (``by_hand``).
   Audited (``supply.shortfall``).

``shortfall_preview`` is the confirmation step: what the same figure would cancel now,
without locking or writing. Passing its ``cancel`` count as ``confirm`` makes the
service refuse if the number changed meanwhile (vouchers issued or bought since).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.allocation.by_hand import mobile_of
from fairshare.allocation.models import Requeue, SupplyDay, SupplyDeclaration, Voucher
from fairshare.allocation.notify import day_text
from fairshare.allocation.supplyday import day_packs_check, supply_round_check
from fairshare.community.models import Pharmacy
from fairshare.core.audit import audit_record
from fairshare.core.errors import FieldErrors
from fairshare.core.locking import Busy, lock_rows, write_transaction
from fairshare.core.sms import sms_enqueue
from fairshare.registration import queue
from fairshare.registration.ledger import shortfall_payload
from fairshare.registration.models import LedgerEntry
from fairshare.registration.selectors import ledger_at_iso
from fairshare.rounds.models import Round


@dataclass
class ShortfallPlan:
    """What lowering a day to ``packs`` does, read from the rows (pure data)."""

    packs: int
    before: int = 0
    live_packs: int = 0
    redeemed_packs: int = 0
    cancel: list[Voucher] = field(default_factory=list)  # original issue order

    @property
    def cancel_packs(self) -> int:
        return sum(v.packs for v in self.cancel)


@dataclass
class ShortfallResult:
    declaration: SupplyDeclaration
    plan: ShortfallPlan
    # committee code → cancelled queue numbers, in the order they go back
    by_committee: dict[str, list[int]] = field(default_factory=dict)
    sms: int = 0
    without_mobile: int = 0

    @property
    def cancelled(self) -> int:
        return len(self.plan.cancel)


def _clean(*, date: Any, packs: Any, round: Round | None) -> int:
    errors = FieldErrors()
    day_packs_check(errors, date=date, packs=packs, round=round)
    if errors:
        raise errors
    return int(packs)


def _day(pharmacy: Pharmacy, date: Date) -> QuerySet[SupplyDay]:
    return SupplyDay.objects.filter(pharmacy=pharmacy, date=date)


def _plan(day: SupplyDay | None, packs: int) -> ShortfallPlan:
    """Which vouchers lowering ``day`` to ``packs`` cancels (module docstring, 1-2)."""
    plan = ShortfallPlan(packs=packs)
    if day is None:
        raise FieldErrors({"date": [_("No supply has been declared for this date.")]})
    plan.before = day.packs
    live = list(
        Voucher.objects.filter(supply_day=day, status__in=Voucher.LIVE_STATUSES)
        .select_related("registration", "committee")
        .order_by("-issued_at", "-id")
    )
    plan.live_packs = sum(v.packs for v in live)
    plan.redeemed_packs = sum(v.packs for v in live if v.status == Voucher.Status.REDEEMED)
    if plan.redeemed_packs > packs:
        raise FieldErrors(
            {
                "packs": [
                    _(
                        "Vouchers for %(n)d packs of this day were already bought; the "
                        "supply cannot go below that."
                    )
                    % {"n": plan.redeemed_packs}
                ]
            }
        )
    remaining = plan.live_packs
    for voucher in live:
        if remaining <= packs:
            break
        if voucher.status == Voucher.Status.ISSUED:
            plan.cancel.append(voucher)
            remaining -= voucher.packs
    plan.cancel.reverse()  # back in their original issue order
    return plan


def shortfall_preview(
    *, actor: User | None, pharmacy: Pharmacy, date: Date, packs: Any
) -> ShortfallPlan:
    """The confirmation step: what lowering the day to ``packs`` would cancel now."""
    round_ = supply_round_check(actor=actor, pharmacy=pharmacy, date=date)
    packs = _clean(date=date, packs=packs, round=round_)
    return _plan(_day(pharmacy, date).first(), packs)


def supply_shortfall_as(
    *, actor: User | None, pharmacy: Pharmacy, date: Date, packs: Any, confirm: int | None
) -> ShortfallResult:
    """``supply_shortfall`` for a staff member: who may declare the supply may lower it."""
    round_ = supply_round_check(actor=actor, pharmacy=pharmacy, date=date)
    return supply_shortfall(
        pharmacy=pharmacy, date=date, packs=packs, actor=actor, confirm=confirm, round=round_
    )


def supply_shortfall(
    *,
    pharmacy: Pharmacy,
    date: Date,
    packs: Any,
    actor: User | None,
    confirm: int | None = None,
    round: Round | None = None,
) -> ShortfallResult:
    """Lower a confirmed day to ``packs`` (module docstring)."""
    packs = _clean(date=date, packs=packs, round=round)
    now = timezone.now()
    with write_transaction():
        day = lock_rows(_day(pharmacy, date)).first()
        plan = _plan(day, packs)
        assert day is not None  # _plan refuses a day without supply
        if confirm is not None and confirm != len(plan.cancel):
            raise FieldErrors(
                {
                    "packs": [
                        _(
                            "Meanwhile the number of vouchers to cancel became %(n)d; "
                            "check and confirm again."
                        )
                        % {"n": len(plan.cancel)}
                    ]
                }
            )
        result = ShortfallResult(declaration=_declare(day, packs, actor), plan=plan)
        if plan.cancel:
            _cancel(plan, now=now, result=result, pharmacy=pharmacy, date=date)
        audit_record(
            actor=actor,
            action="supply.shortfall",
            obj=result.declaration,
            before={"packs": plan.before},
            after={
                "date": date.isoformat(),
                "packs": packs,
                "cancelled": result.cancelled,
                "queue_numbers": result.by_committee,
                "without_mobile": result.without_mobile,
            },
            subdistrict_id=pharmacy.subdistrict_id,
            pharmacy_id=pharmacy.id,
        )
    return result


def _declare(day: SupplyDay, packs: int, actor: User | None) -> SupplyDeclaration:
    """The current batch again with the lower packs, superseding it; the day's packs."""
    current = (
        SupplyDeclaration.objects.filter(supply_day=day, superseded_by__isnull=True)
        .order_by("-declared_at", "-id")
        .first()
    )
    if current is None:
        raise FieldErrors({"date": [_("No supply has been declared for this date.")]})
    declaration = SupplyDeclaration.objects.create(
        supply_day=day,
        packs=packs,
        manufacturer=current.manufacturer,
        style=current.style,
        unit_price=current.unit_price,
        declared_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    SupplyDeclaration.objects.filter(supply_day=day, superseded_by__isnull=True).exclude(
        pk=declaration.pk
    ).update(superseded_by=declaration)
    day.packs = packs
    day.save(update_fields=["packs"])
    return declaration


def _cancel(
    plan: ShortfallPlan, *, now: datetime, result: ShortfallResult, pharmacy: Pharmacy, date: Date
) -> None:
    """Counters, then vouchers, locked; cancel, requeue, ledger links, SMS."""
    by_committee: dict[int, list[Voucher]] = {}
    for voucher in plan.cancel:
        by_committee.setdefault(voucher.committee_id, []).append(voucher)
    counters = {
        committee_id: queue.counter_lock(round_id=vouchers[0].round_id, committee_id=committee_id)
        for committee_id, vouchers in sorted(by_committee.items())
    }
    ids = [v.pk for v in plan.cancel]
    locked = list(
        lock_rows(Voucher.objects.filter(pk__in=ids, status=Voucher.Status.ISSUED).order_by("pk"))
    )
    if len(locked) != len(ids):
        raise Busy()  # one was bought between the read and its lock: read again
    Voucher.objects.filter(pk__in=ids, status=Voucher.Status.ISSUED).update(
        status=Voucher.Status.CANCELLED
    )
    Requeue.objects.bulk_create(
        Requeue(
            round_id=v.round_id,
            household_id=v.household_id,
            registration_id=v.registration_id,
            voucher=v,
            outcome=Requeue.Outcome.REQUEUED,
            reason=Requeue.Reason.SHORTFALL,
            created_at=now,
        )
        for v in plan.cancel
    )
    for committee_id, vouchers in sorted(by_committee.items()):
        numbers = [v.registration.queue_number for v in vouchers]
        result.by_committee[vouchers[0].committee.code] = numbers
        link = _link(pharmacy=pharmacy, date=date, packs=plan.packs, numbers=numbers, now=now)
        queue.ledger_append(counters[committee_id], [link], created_at=now)
    for v in plan.cancel:
        _notify(v, date=date, result=result)


def _link(*, pharmacy: Pharmacy, date: Date, packs: int, numbers: list[int], now: datetime) -> Any:
    """One ``shortfall`` link (a batch link: no registration)."""
    payload: Callable[[int], dict[str, Any]] = lambda seq: shortfall_payload(  # noqa: E731
        seq=seq,
        pharmacy=pharmacy.code,
        day=date.isoformat(),
        packs=packs,
        cancelled=numbers,
        at_iso=ledger_at_iso(now),
    )
    return cast(queue.Link, (LedgerEntry.Kind.SHORTFALL, None, payload))


def _notify(voucher: Voucher, *, date: Date, result: ShortfallResult) -> None:
    phone = mobile_of(voucher.registration.phone)
    if phone is None:
        result.without_mobile += 1  # on the committee's notify-by-hand list
        return
    sms_enqueue(
        phone=phone,
        kind="shortfall",
        variables={
            "committee": voucher.committee.name,
            "day": day_text(date),
            "number": str(voucher.registration.queue_number),
        },
        household_id=voucher.household_id,
        lang=settings.LANGUAGE_CODE,
    )
    result.sms += 1
