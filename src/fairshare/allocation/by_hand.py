"""The committee's notify-by-hand list: households that must be told in person.

A household **has no mobile** when its registration's phone is not a mainland mobile
number (blank, a landline, "no phone": ``core.phones.has_mobile``, the one rule; carry-over counts
``without_mobile`` with it, the shortfall and this list use it). Such a household gets
no SMS, so its committee's staff tell it in person when

* its voucher is issued (still unbought): day, pickup slot or delivery, pharmacy;
* its voucher was cancelled for a supply shortfall (``allocation/shortfall.py``): "your
  voucher was cancelled; you are first in line";
* it was carried over into this round (``allocation/carryover.py``): new queue number
  and ticket.

The list is derived from those rows each time (nothing to keep in step); only the
"told" mark is stored (``HandNotice``: who, when; audited ``by_hand.told``), once per
item. Staff see full names and addresses of their own committees only
(``selectors.committee_for_staff``, accounts.scoping).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.allocation.models import CarryOver, HandNotice, Requeue, Voucher
from fairshare.allocation.notify import day_text
from fairshare.allocation.tokens import code_display
from fairshare.community.models import Committee
from fairshare.core.audit import audit_record
from fairshare.core.errors import FieldErrors
from fairshare.core.locking import write_transaction
from fairshare.core.phones import has_mobile, normalize_phone
from fairshare.registration.models import Registration
from fairshare.rounds.models import Round

LIMIT = 2000


def mobile_of(phone: str | None) -> str | None:
    """The household's mobile number to text, or None: it must be told by hand."""
    return normalize_phone(phone)


@dataclass
class HandItem:
    kind: str
    ref_id: int
    queue_number: int
    name: str
    address: str
    message: str
    at: datetime
    told_by: str = ""
    told_at: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ref_id}"

    @property
    def kind_label(self) -> str:
        return str(HandNotice.Kind(self.kind).label)


def _item(kind: str, ref_id: int, reg: Registration, message: Any, at: datetime) -> HandItem:
    return HandItem(
        kind=kind,
        ref_id=ref_id,
        queue_number=reg.queue_number,
        name=reg.name,
        address=str(reg.household),
        message=str(message),
        at=at,
    )


def _when(voucher: Voucher) -> str:
    day = day_text(voucher.date)
    if voucher.fulfilment == Voucher.Fulfilment.DELIVERY:
        return str(_("On %(day)s, delivered by the committee") % {"day": day})
    if voucher.slot_start and voucher.slot_end:
        slot = f"{voucher.slot_start:%H:%M}-{voucher.slot_end:%H:%M}"
        return str(_("On %(day)s at %(slot)s") % {"day": day, "slot": slot})
    return str(_("On %(day)s during opening hours") % {"day": day})


def _issued(committee: Committee, round: Round) -> Iterable[HandItem]:
    vouchers = (
        Voucher.objects.filter(committee=committee, round=round, status=Voucher.Status.ISSUED)
        .select_related("registration", "household__building", "pharmacy")
        .order_by("date", "registration__queue_number")
    )
    for v in vouchers:
        if has_mobile(v.registration.phone):
            continue
        message = _("Voucher %(code)s: %(when)s, %(pharmacy)s (%(address)s), %(packs)s packs.") % {
            "code": code_display(v.code),
            "when": _when(v),
            "pharmacy": v.pharmacy.name,
            "address": v.pharmacy.address,
            "packs": v.packs,
        }
        yield _item(HandNotice.Kind.ISSUED, v.pk, v.registration, message, v.issued_at)


def _shortfall(committee: Committee, round: Round) -> Iterable[HandItem]:
    requeues = (
        Requeue.objects.filter(
            round=round, reason=Requeue.Reason.SHORTFALL, registration__committee=committee
        )
        .select_related("registration__household__building", "voucher")
        .order_by("created_at", "id")
    )
    for q in requeues:
        if has_mobile(q.registration.phone):
            continue
        message = _(
            "Your voucher for %(day)s was cancelled: the delivery fell short. You keep "
            "your place and are first in line for the next vouchers."
        ) % {"day": day_text(q.voucher.date)}
        yield _item(HandNotice.Kind.SHORTFALL, q.pk, q.registration, message, q.created_at)


def _carried(committee: Committee, round: Round) -> Iterable[HandItem]:
    carry = CarryOver.objects.filter(target=round).first()
    if carry is None:
        return
    # carry-over registers its households with the CarryOver's own time (carryover.py)
    regs = (
        Registration.objects.filter(
            round=round, committee=committee, acknowledged_at=carry.created_at
        )
        .select_related("household__building")
        .order_by("queue_number")
    )
    for reg in regs:
        if has_mobile(reg.phone):
            continue
        message = _(
            "Your household was carried over to %(round)s and goes first: queue number "
            "%(number)s, ticket %(ticket)s."
        ) % {"round": round.name, "number": reg.queue_number, "ticket": reg.ticket}
        yield _item(HandNotice.Kind.CARRIED, reg.pk, reg, message, carry.created_at)


def hand_list(*, committee: Committee, round: Round) -> list[HandItem]:
    """The committee's notify-by-hand items of ``round``: not yet told first, then by time."""
    items = [
        *_issued(committee, round),
        *_shortfall(committee, round),
        *_carried(committee, round),
    ]
    told = {
        (n.kind, n.ref_id): n
        for n in HandNotice.objects.filter(committee=committee).select_related("told_by")
    }
    for item in items:
        notice = told.get((item.kind, item.ref_id))
        if notice is not None:
            item.told_at = notice.told_at
            item.told_by = notice.told_by.username if notice.told_by else ""
    items.sort(key=lambda i: (i.told_at is not None, i.at, i.queue_number))
    return items[:LIMIT]


def hand_notice_told(
    *, actor: User, committee: Committee, round: Round, keys: Iterable[str]
) -> int:
    """Mark items of the committee's list as told (who, when); returns how many were new.

    Only keys of the committee's current list count; an unknown key is a field error.
    """
    wanted = {str(k).strip() for k in keys if str(k).strip()}
    if not wanted:
        raise FieldErrors({"told": [_("Tick at least one household.")]})
    known = {item.key: item for item in hand_list(committee=committee, round=round)}
    if wanted - known.keys():
        raise FieldErrors({"told": [_("This household is not on the list (any more).")]})
    marked = 0
    with write_transaction():
        for key in sorted(wanted):
            item = known[key]
            try:
                with transaction.atomic():
                    HandNotice.objects.create(
                        committee=committee, kind=item.kind, ref_id=item.ref_id, told_by=actor
                    )
            except IntegrityError:
                continue  # told already (by a colleague meanwhile)
            marked += 1
            audit_record(
                actor=actor,
                action="by_hand.told",
                after={"kind": item.kind, "ref": item.ref_id, "queue_number": item.queue_number},
                committee_id=committee.pk,
            )
    return marked
