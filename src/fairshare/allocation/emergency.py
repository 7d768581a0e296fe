"""Emergency delivery (仁恒怡庭): staff take packs to a resident who could not register.

A round sets aside, per committee, a small stock from each confirmed day of the
committee's pharmacy (``EmergencyStock.packs``). Until it is delivered that stock is not
available to the allocation: for a pharmacy-day

    available = confirmed − packs of live vouchers − set-aside not yet used that day

(``setaside.set_aside_unused``, the one place this is computed; the engine's ``_plan_read`` and
the open-data stock feed ``pharmacy/stockfeed.py`` both call it), so vouchers plus
emergency deliveries never exceed the supply.

``emergency_deliver`` records a delivery in ONE ``write_transaction``, taking the locks
in the engine's order (round, the pharmacy-day's SupplyDay row, the committee's queue
counter): a registration with channel ``emergency`` (verified: staff saw the resident)
and its voucher, bought and handed over at once (fulfilment ``delivery``,
``handed_over_by`` the staff member, ``received_by`` noted in the audit), plus two
ledger links: its ``registered`` link and an ``emergency`` link saying it was served
outside the queue order (docs/ledger.md). The voucher carries the emergency link's
sequence number (``Voucher.ledger_seq``), so it is never listed in a ``redeemed`` link.
Refused when the household already has a live registration or voucher in the round
(never served twice), when the committee's set-aside of the day is used up, or when the
day's supply is all promised.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date as Date

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.permissions import may_manage_round
from fairshare.accounts.scoping import require_committee_in_scope
from fairshare.allocation.models import EmergencyStock, SupplyDay, SupplyDeclaration, Voucher
from fairshare.allocation.services import round_lock
from fairshare.allocation.setaside import emergency_used
from fairshare.allocation.supplyday import supply_day_locked
from fairshare.allocation.tokens import code_new
from fairshare.community.models import Household
from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict, FieldErrors, Forbidden
from fairshare.core.locking import write_transaction
from fairshare.registration import queue
from fairshare.registration.ledger import emergency_payload
from fairshare.registration.models import Channel, LedgerEntry, QueueCounter, Registration
from fairshare.registration.rules import validate_round
from fairshare.registration.selectors import ledger_at_iso, registered_payload_for
from fairshare.registration.services import AlreadyRegistered
from fairshare.registration.tickets import ticket_new
from fairshare.registration.validation import clean_name, clean_phone
from fairshare.rounds.models import Round

MAX_STOCK = 1000
REASONS = {
    "alone": _("lives alone"),
    "elderly": _("very old"),
    "quarantine": _("in home quarantine"),
    "other": _("other"),
}


@dataclass(frozen=True)
class Stock:
    """A committee's emergency stock of one day: set aside, delivered, left."""

    set_aside: int
    delivered: int

    @property
    def left(self) -> int:
        return max(0, self.set_aside - self.delivered)


def emergency_stock(*, round: Round, committee_id: int, day: SupplyDay | None) -> Stock:
    """The committee's set-aside of the round on ``day`` and what it delivered from it."""
    row = EmergencyStock.objects.filter(round=round, committee_id=committee_id).first()
    delivered = 0
    if day is not None:
        delivered = emergency_used([day.pk]).get((day.pk, round.pk, committee_id), 0)
    return Stock(set_aside=row.packs if row else 0, delivered=delivered)


def emergency_stock_set(*, round: Round, committee_id: int, packs: int, actor: User) -> int:
    """Set the committee's emergency stock per day (round managers only)."""
    if not may_manage_round(actor, round):
        raise Forbidden(_("You may not change this round's emergency stock."))
    if isinstance(packs, bool) or not isinstance(packs, int) or not 0 <= packs <= MAX_STOCK:
        raise FieldErrors({"packs": [_("Packs must be between 0 and 1000.")]})
    with write_transaction():
        before = EmergencyStock.objects.filter(round=round, committee_id=committee_id).first()
        EmergencyStock.objects.update_or_create(
            round=round,
            committee_id=committee_id,
            defaults={"packs": packs, "updated_at": timezone.now()},
        )
        audit_record(
            actor=actor,
            action="emergency.stock",
            obj=round,
            before={"packs": before.packs if before else 0},
            after={"packs": packs},
            committee_id=committee_id,
        )
    return packs


def _checked(
    *, round: Round, household: Household, name: str, phone: str, reason: str, received_by: str
) -> tuple[str, str, str]:
    errors = FieldErrors()
    name = clean_name(name, errors)
    phone = clean_phone(phone, errors)
    received_by = clean_name(received_by, errors, field="received_by")
    if reason not in REASONS:
        errors.add("reason", _("Choose why the resident could not register."))
    validate_round(round=round, committee=household.committee, now=timezone.now(), errors=errors)
    if errors:
        raise errors
    return name, phone, received_by


def _stock_check(*, round: Round, household: Household, day: SupplyDay) -> SupplyDeclaration:
    """The day's current batch, once the set-aside and the supply can give one household."""
    declaration = (
        SupplyDeclaration.objects.filter(supply_day=day, superseded_by__isnull=True)
        .order_by("-declared_at", "-id")
        .first()
    )
    stock = emergency_stock(round=round, committee_id=household.committee_id, day=day)
    if declaration is None or stock.left < round.packs_per_household:
        raise Conflict(_("No emergency stock is left for today."))
    live = Voucher.objects.filter(supply_day=day, status__in=Voucher.LIVE_STATUSES)
    used = live.aggregate(n=Sum("packs"))["n"] or 0
    if day.packs - used < round.packs_per_household:
        raise Conflict(_("Today's supply is all promised; no emergency delivery is possible."))
    return declaration


def _already_served(*, round: Round, household: Household) -> None:
    existing = (
        Registration.objects.filter(round=round, household=household)
        .exclude(status=Registration.Status.VOID)
        .first()
    )
    if existing is not None:
        raise AlreadyRegistered(existing)
    if Voucher.objects.filter(
        round=round, household=household, status__in=Voucher.LIVE_STATUSES
    ).exists():
        raise Conflict(_("This household already holds a voucher of this round."))


def _enqueue(
    counter: QueueCounter, *, household: Household, name: str, phone: str, actor: User
) -> Registration:
    """The emergency registration with the committee's next queue number (verified)."""
    registration = Registration(
        round_id=counter.round_id,
        committee_id=counter.committee_id,
        household=household,
        ticket=ticket_new(),
        channel=Channel.EMERGENCY,
        status=Registration.Status.VERIFIED,
        name=name,
        phone=phone,
        acknowledged_at=timezone.now(),
        created_by=actor,
        id_checked=True,
    )
    if not queue.enqueue(counter, registration):
        _already_served(round=registration.round, household=household)
        raise Conflict(_("Could not record the delivery; try again."))
    return registration


def _links(counter: QueueCounter, registration: Registration, *, day: SupplyDay, packs: int) -> int:
    """Its "registered" and "emergency" links; the emergency link's sequence number."""
    pharmacy = registration.committee.pharmacy.code
    links = queue.ledger_append(
        counter,
        [
            (
                LedgerEntry.Kind.REGISTERED,
                registration,
                lambda seq: registered_payload_for(registration, seq=seq),
            ),
            (
                LedgerEntry.Kind.EMERGENCY,
                None,
                lambda seq: emergency_payload(
                    seq=seq,
                    queue_number=registration.queue_number,
                    pharmacy=pharmacy,
                    day=day.date.isoformat(),
                    packs=packs,
                    at_iso=ledger_at_iso(registration.acknowledged_at),
                ),
            ),
        ],
    )
    return links[-1].seq


def _voucher(
    registration: Registration,
    *,
    day: SupplyDay,
    declaration: SupplyDeclaration,
    seq: int,
    actor: User,
) -> Voucher:
    """Its voucher: bought and handed over by the staff member at once (home delivery)."""
    now = registration.acknowledged_at
    return Voucher.objects.create(
        round=registration.round,
        registration=registration,
        household=registration.household,
        committee=registration.committee,
        pharmacy_id=day.pharmacy_id,
        supply_day=day,
        declaration=declaration,
        date=day.date,
        valid_until=day.date,
        code=code_new(),
        packs=registration.round.packs_per_household,
        fulfilment=Voucher.Fulfilment.DELIVERY,
        status=Voucher.Status.REDEEMED,
        issued_at=now,
        redeemed_at=now,
        redeemed_by=actor,
        handed_over_at=now,
        handed_over_by=actor,
        ledger_seq=seq,
    )


def emergency_deliver(
    *,
    round: Round,
    household: Household,
    name: str,
    phone: str,
    reason: str,
    received_by: str,
    actor: User,
    date: Date | None = None,
) -> Voucher:
    """Record an emergency delivery (module docstring); the delivered voucher."""
    committee = household.committee
    require_committee_in_scope(
        actor, committee.pk, message=_("You may only deliver for your own committee.")
    )
    name, phone, received_by = _checked(
        round=round,
        household=household,
        name=name,
        phone=phone,
        reason=reason,
        received_by=received_by,
    )
    on = date or timezone.localdate()
    if not round.valid_from <= on <= round.valid_until:
        raise FieldErrors({"date": [_("The date is outside the round's purchase dates.")]})
    with write_transaction():
        round_lock(round=round)
        day = supply_day_locked(pharmacy=committee.pharmacy, date=on)
        declaration = _stock_check(round=round, household=household, day=day)
        counter = queue.counter_lock(round_id=round.pk, committee_id=committee.pk)
        _already_served(round=round, household=household)
        registration = _enqueue(counter, household=household, name=name, phone=phone, actor=actor)
        packs = round.packs_per_household
        seq = _links(counter, registration, day=day, packs=packs)
        voucher = _voucher(registration, day=day, declaration=declaration, seq=seq, actor=actor)
        audit_record(
            actor=actor,
            action="emergency.deliver",
            obj=voucher,
            after={
                "queue_number": registration.queue_number,
                "reason": reason,
                "received_by": received_by,
                "packs": packs,
            },
            subdistrict_id=committee.subdistrict_id,
            committee_id=committee.pk,
            pharmacy_id=committee.pharmacy_id,
        )
    return voucher


def emergency_deliveries(*, round: Round, committee_ids: Iterable[int]) -> list[Voucher]:
    """The round's emergency deliveries of these committees, latest first."""
    return list(
        Voucher.objects.filter(
            Q(committee_id__in=list(committee_ids)),
            round=round,
            registration__channel=Channel.EMERGENCY,
        )
        .select_related("registration", "household__building", "handed_over_by")
        .order_by("-issued_at", "-id")
    )
