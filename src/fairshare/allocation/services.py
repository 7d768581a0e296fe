"""Supply declarations, voucher fulfilment, the allocation entry points (writes).

Voucher expiry is in ``expiry.py`` (``voucher_expire_due`` is re-exported here).

The allocation engine itself is in ``engine.py``; ``allocation_run`` here is its one
entry point (the API, the allocate page and ``fairshare allocate`` all call it): it
refuses a fenced round (``allocation_fence_check``: past its last purchase day, or its
unserved already carried into another round), re-checked under the round's row lock,
which carry-over takes too, so the two never both happen.

Batches: a pharmacy-day has ONE current declaration (batch). A new declaration for
the same day is a correction: it supersedes the current one (``superseded_by``;
history kept) and sets ``SupplyDay.packs`` to its packs. Vouchers reference the
declaration that was current when they were issued, so the batch and price on an
issued voucher never change. A correction may not go below the packs already
issued (live vouchers) for that day; a delivery that fell short is lowered by
``shortfall.supply_shortfall``, which cancels the latest-issued unbought vouchers.
"""

from __future__ import annotations

from datetime import date as Date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.permissions import may_allocate
from fairshare.allocation import engine
from fairshare.allocation.engine import AllocationResult
from fairshare.allocation.expiry import voucher_expire_due
from fairshare.allocation.lottery import commitment_of, seed_matches, seed_new
from fairshare.allocation.models import (
    CarryOver,
    LotterySecret,
    SupplyDay,
    SupplyDeclaration,
    Voucher,
)
from fairshare.allocation.supplyday import (
    day_packs_check,
    supply_day_locked,
    supply_round_check,
)
from fairshare.community.models import Member, Pharmacy
from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict, FieldErrors, Forbidden, NotFound
from fairshare.core.locking import lock_rows, write_transaction
from fairshare.rounds.models import Round

__all__ = [
    "AllocationResult",
    "allocation_fence_check",
    "allocation_run",
    "lottery_commit",
    "lottery_reveal",
    "supply_declare",
    "voucher_expire_due",
    "voucher_set_fulfilment",
]

MAX_PRICE = Decimal("999999.99")


def _clean_supply(
    *, date: Any, packs: Any, manufacturer: Any, style: Any, unit_price: Any, round: Round | None
) -> tuple[int, Decimal, str, str]:
    errors = FieldErrors()
    day_packs_check(errors, date=date, packs=packs, round=round)
    price = Decimal("-1")
    try:
        price = Decimal(str(unit_price))
        bad = not price.is_finite() or price < 0 or price > MAX_PRICE
        if not bad and price != price.quantize(Decimal("0.01")):
            bad = True
    except (InvalidOperation, ValueError, TypeError):
        bad = True
    if bad:
        errors.add("unit_price", _("Enter a price of 0 or more with at most 2 decimals."))
    texts = []
    for name, value in (("manufacturer", manufacturer), ("style", style)):
        text = str(value or "").strip()
        if not text:
            errors.add(name, _("This field is required."))
        elif len(text) > 100:
            errors.add(name, _("At most 100 characters."))
        texts.append(text)
    if errors:
        raise errors
    return packs, price.quantize(Decimal("0.01")), texts[0], texts[1]


def _check_not_below_issued(day: SupplyDay, packs: int) -> None:
    """A correction may not go below the packs of the day's live vouchers (under the lock)."""
    live = Voucher.objects.filter(supply_day=day, status__in=Voucher.LIVE_STATUSES)
    issued = live.aggregate(n=Sum("packs"))["n"] or 0
    if packs < issued:
        raise FieldErrors(
            {
                "packs": [
                    _(
                        "Vouchers for %(n)d packs were already issued for this day. If the "
                        "delivery fell short, use the shortfall form: it cancels the latest "
                        "unbought vouchers."
                    )
                    % {"n": issued}
                ]
            }
        )


def supply_declare(
    *,
    pharmacy: Pharmacy,
    date: Date,
    packs: int | str,
    manufacturer: str,
    style: str,
    unit_price: Decimal | str | float,
    actor: User | None,
    round: Round | None = None,
) -> SupplyDeclaration:
    """Declare (or correct) a pharmacy's supply for a day; returns the new declaration."""
    packs, price, manufacturer, style = _clean_supply(
        date=date,
        packs=packs,
        manufacturer=manufacturer,
        style=style,
        unit_price=unit_price,
        round=round,
    )
    with write_transaction():
        day = supply_day_locked(pharmacy=pharmacy, date=date)
        _check_not_below_issued(day, packs)
        current = list(SupplyDeclaration.objects.filter(supply_day=day, superseded_by__isnull=True))
        declaration = SupplyDeclaration.objects.create(
            supply_day=day,
            packs=packs,
            manufacturer=manufacturer,
            style=style,
            unit_price=price,
            declared_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        SupplyDeclaration.objects.filter(pk__in=[d.pk for d in current]).update(
            superseded_by=declaration
        )
        before = day.packs
        day.packs = packs
        day.save(update_fields=["packs"])
        audit_record(
            actor=actor,
            action="supply.declare" if not current else "supply.correct",
            obj=declaration,
            before={"packs": before} if current else None,
            after={
                "date": date.isoformat(),
                "packs": packs,
                "manufacturer": manufacturer,
                "style": style,
                "unit_price": str(price),
            },
            subdistrict_id=pharmacy.subdistrict_id,
            pharmacy_id=pharmacy.id,
        )
    return declaration


def voucher_set_fulfilment(*, voucher: Voucher, fulfilment: str, actor: User) -> Voucher:
    """Switch a live voucher between pickup, committee proxy purchase and home delivery."""
    if fulfilment not in Voucher.Fulfilment.values:
        raise FieldErrors({"fulfilment": [_("Choose pickup, proxy or delivery.")]})
    if (
        fulfilment == Voucher.Fulfilment.DELIVERY
        and not Member.objects.filter(
            Q(lives_alone=True) | Q(mobility_impaired=True), household_id=voucher.household_id
        ).exists()
    ):
        raise FieldErrors(
            {
                "fulfilment": [
                    _(
                        "Home delivery is for households with a member who lives alone or "
                        "has limited mobility; mark that on the roster first."
                    )
                ]
            }
        )
    with write_transaction():
        before = Voucher.objects.filter(pk=voucher.pk).values_list("fulfilment", flat=True).first()
        if before is None:
            raise NotFound(_("Unknown voucher."))
        changed = Voucher.objects.filter(pk=voucher.pk, status=Voucher.Status.ISSUED).update(
            fulfilment=fulfilment
        )
        if not changed:
            raise Conflict(_("Only an issued, unused voucher can be changed."))
        voucher.fulfilment = fulfilment
        audit_record(
            actor=actor,
            action="voucher.fulfilment",
            obj=voucher,
            before={"fulfilment": before},
            after={"fulfilment": fulfilment},
            committee_id=voucher.committee_id,
            pharmacy_id=voucher.pharmacy_id,
        )
    return voucher


# --- Staff entry points shared by the pages and the API --------------------------------


def supply_declare_as(
    *,
    actor: User | None,
    pharmacy: Pharmacy,
    date: Date,
    packs: int | str,
    manufacturer: str,
    style: str,
    unit_price: Decimal | str | float,
) -> SupplyDeclaration:
    """``supply_declare`` for a staff member: permission and round checks first.

    That pharmacy's staff or subdistrict/district staff of its area may declare; the
    date must fall in the purchase dates of a round the pharmacy serves (when it
    serves any open round).
    """
    round_ = supply_round_check(actor=actor, pharmacy=pharmacy, date=date)
    return supply_declare(
        pharmacy=pharmacy,
        date=date,
        packs=packs,
        manufacturer=manufacturer,
        style=style,
        unit_price=unit_price,
        actor=actor,
        round=round_,
    )


def allocation_fence_check(*, round: Round) -> None:
    """Refuse (409) a round that may allocate no more.

    A round allocates until its last purchase day (``valid_until``, local date) and
    until its unserved are carried into another round (a ``CarryOver`` from it).
    Registration closing does not stop it.
    """
    if timezone.localdate() > round.valid_until:
        raise Conflict(
            _("The round's last purchase day has passed; it issues no more vouchers."),
            code="round_past_last_day",
        )
    if CarryOver.objects.filter(source_id=round.pk).exists():
        raise Conflict(
            _(
                "The unserved households of this round were carried over into another "
                "round; it issues no more vouchers."
            ),
            code="round_carried_over",
        )


def round_lock(*, round: Round) -> Round:
    """The round's row, locked until the transaction ends (allocation and carry-over
    of the same round serialize on it)."""
    # No-key (locking rule 7): registrations of the round never wait for an allocation.
    return lock_rows(Round.objects.filter(pk=round.pk), no_key=True).get()


def allocation_run(
    *,
    round: Round,
    date: Date,
    pharmacy: Pharmacy | None = None,
    actor: User | None = None,
    dry_run: bool = False,
) -> AllocationResult:
    """The allocation engine behind the round fence (``allocation_fence_check``).

    A real run holds the round's row lock for the whole run (every pharmacy-day
    transaction of the engine nests in it), so a carry-over of this round waits for it
    or, if first, makes the re-check under the lock refuse.
    """
    allocation_fence_check(round=round)
    if dry_run:
        return engine.allocation_run(
            round=round, date=date, pharmacy=pharmacy, actor=actor, dry_run=True
        )
    with write_transaction():
        allocation_fence_check(round=round_lock(round=round))
        return engine.allocation_run(round=round, date=date, pharmacy=pharmacy, actor=actor)


def allocation_run_as(
    *,
    actor: User | None,
    round: Round,
    date: Date,
    pharmacy_code: str | None = None,
    dry_run: bool = False,
) -> AllocationResult:
    """``allocation_run`` for a staff member (subdistrict or district staff of the round)."""
    if not may_allocate(actor, round):
        raise Forbidden(_("Only subdistrict or district staff may run the allocation."))
    pharmacy = None
    if pharmacy_code:
        pharmacy = Pharmacy.objects.filter(code=pharmacy_code).first()
        if pharmacy is None:
            raise FieldErrors({"pharmacy": [_("Unknown pharmacy.")]})
    return allocation_run(round=round, date=date, pharmacy=pharmacy, actor=actor, dry_run=dry_run)


# --- Lottery seed: commit before registration closes, reveal after --------------------


def lottery_seed_path(round: Round) -> Path:
    """Where releases before issue 17 kept a round's secret seed (read once, then moved)."""
    return settings.DATA_DIR / "lottery" / f"round-{round.pk}.seed"


def lottery_commit(*, round: Round, actor: User | None = None) -> str:
    """Draw a secret seed, keep it once in the database, publish its SHA-256.

    The seed (``LotterySecret``) and the commitment commit together, so any node can
    reveal it later and every node draws the same ranks.
    """
    if round.policy != Round.Policy.LOTTERY:
        raise Conflict(_("This round does not use the lottery policy."))
    if round.lottery_commitment:
        raise Conflict(_("The lottery seed of this round was already committed."))
    if timezone.now() >= round.registration_closes_at:
        raise Conflict(_("The seed must be committed before registration closes."))
    seed = seed_new()
    commitment = commitment_of(seed)
    with write_transaction():
        changed = Round.objects.filter(pk=round.pk, lottery_commitment="").update(
            lottery_commitment=commitment
        )
        if not changed:
            raise Conflict(_("The lottery seed of this round was already committed."))
        LotterySecret.objects.create(round_id=round.pk, seed=seed)
        audit_record(
            actor=actor, action="lottery.commit", obj=round, after={"commitment": commitment}
        )
    round.lottery_commitment = commitment
    return commitment


def lottery_secret_seed(round: Round) -> str | None:
    """The committed secret seed: from the database, or moved there from a legacy file."""
    stored = LotterySecret.objects.filter(round_id=round.pk).first()
    if stored is not None:
        return stored.seed
    path = lottery_seed_path(round)
    if not path.exists():
        return None
    seed = path.read_text().strip()
    if seed_matches(seed, round.lottery_commitment):
        with write_transaction():
            LotterySecret.objects.get_or_create(round_id=round.pk, defaults={"seed": seed})
    return seed


def lottery_reveal(*, round: Round, seed: str | None = None, actor: User | None = None) -> str:
    """Publish the seed after registration closed; it must match the commitment."""
    if not round.lottery_commitment:
        raise Conflict(_("No lottery seed was committed for this round."))
    if round.lottery_seed:
        raise Conflict(_("The lottery seed was already revealed."))
    if timezone.now() < round.registration_closes_at:
        raise Conflict(_("The seed may be revealed only after registration closes."))
    if seed is None:
        seed = lottery_secret_seed(round)
        if seed is None:
            raise Conflict(_("No secret seed was kept for this round; pass it explicitly."))
    seed = seed.strip()
    if not seed_matches(seed, round.lottery_commitment):
        raise FieldErrors({"seed": [_("The seed does not match the published commitment.")]})
    with write_transaction():
        Round.objects.filter(pk=round.pk, lottery_seed="").update(lottery_seed=seed)
        audit_record(actor=actor, action="lottery.reveal", obj=round, after={"seed": seed})
    round.lottery_seed = seed
    return seed
