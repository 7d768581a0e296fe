"""The one resident-facing state of a registration (the status page and the status API).

``resident_state`` decides it once, from the registration and its vouchers, so the page
and ``POST /api/v1/registrations/{ticket}/status`` can never disagree, and the page never
shows a registration status next to a contradicting voucher:

* ``void``: the registration was voided (its reason);
* ``voucher``: an issued voucher, with where it is fulfilled (pharmacy pickup with its
  day and slot, the committee's pick-up point for a proxy purchase, or home delivery);
* ``bought``: the voucher was used (and, for proxy / delivery, whether it was handed over);
* ``pending_review`` / ``waiting``: waiting by the one rule of ``allocation/waiting.py``,
  with the place in line, the households of the committee still waiting ahead and the
  expected day from the supply seen so far (``None``: no supply seen yet);
* ``expired``: the voucher expired and the household lost its place (no longer waiting).

Whatever the state, ``link`` is the registration's own "registered" link in the public
chain (``{"seq", "hash"}``, ``registration/links.py``), to look for in a later posting.
"""

from __future__ import annotations

import math
from datetime import date as Date
from datetime import timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fairshare.allocation.models import Requeue, SupplyDay, Voucher
from fairshare.allocation.tokens import code_display
from fairshare.allocation.waiting import waiting_registrations
from fairshare.community.models import Committee
from fairshare.registration.links import registered_link
from fairshare.registration.models import Registration
from fairshare.rounds.models import Round


def resident_state(registration: Registration, *, voucher: Voucher | None) -> dict[str, Any]:
    """The state (``state`` key) and what the resident needs for it (see module doc)."""
    round_obj = registration.round
    out: dict[str, Any] = {
        "state": "",
        "queue_number": registration.queue_number,
        "packs": voucher.packs if voucher is not None else round_obj.packs_per_household,
        "pack_description": round_obj.pack_description,
        "bring": "",
        "void_reason": "",
        "requeued": False,
        "ahead": None,
        "expected_date": None,
        "expected_after_round": False,
        "voucher": None,
        "link": _own_link(registration),
    }
    if registration.status == Registration.Status.VOID:
        out.update(state="void", void_reason=registration.void_reason)
    elif voucher is not None:
        out["voucher"] = _voucher_part(voucher)
        if voucher.status == Voucher.Status.ISSUED:
            out.update(state="voucher", bring=_bring(voucher.fulfilment))
        else:
            out["state"] = "bought"
    elif not _waiting(round_obj, registration).filter(pk=registration.pk).exists():
        out["state"] = "expired"
    else:
        pending = registration.status == Registration.Status.PENDING_REVIEW
        out.update(_queue_part(registration))
        out.update(state="pending_review" if pending else "waiting", bring=_bring(None))
    return out


def _own_link(registration: Registration) -> dict[str, Any] | None:
    """The registration's "registered" link (seq, hash), to find in a later posting."""
    own = registered_link(registration)
    return {"seq": own.seq, "hash": own.hash} if own is not None else None


def _waiting(round_obj: Round, registration: Registration) -> Any:
    # held=True: a registration under review keeps its place (it is held, not waiting).
    return waiting_registrations(
        round=round_obj, committee_ids=[registration.committee_id], held=True
    )


def _bring(fulfilment: str | None) -> str:
    if fulfilment == Voucher.Fulfilment.DELIVERY:
        return _("Nothing to bring: the committee brings the packs to your home.")
    if fulfilment == Voucher.Fulfilment.PROXY:
        return _(
            "The committee buys for you: collect the packs at its pick-up point and bring "
            "your registration slip."
        )
    if fulfilment == Voucher.Fulfilment.PICKUP:
        return _("Bring the voucher code or its QR code (on your phone or printed).")
    return _("Nothing yet: when your voucher is issued you will need its code or QR code.")


def _voucher_part(voucher: Voucher) -> dict[str, Any]:
    pharmacy, committee = voucher.pharmacy, voucher.committee
    handed: dict[str, Any] | None = None
    try:
        handover = voucher.handover  # the reverse relation of pharmacy.Handover
        handed = {"kind": handover.kind, "at": handover.at}
    except ObjectDoesNotExist:
        pass
    declaration = voucher.declaration
    batch = (
        {
            "manufacturer": declaration.manufacturer,
            "style": declaration.style,
            "unit_price": declaration.unit_price,
        }
        if declaration is not None
        else None
    )
    return {
        "batch": batch,
        "code": code_display(voucher.code),
        "status": voucher.status,
        "fulfilment": voucher.fulfilment,
        "date": voucher.date,
        "slot_start": voucher.slot_start,
        "slot_end": voucher.slot_end,
        "valid_until": voucher.valid_until,
        "pharmacy": {
            "name": pharmacy.name,
            "address": pharmacy.address,
            "opens_at": pharmacy.opens_at,
            "closes_at": pharmacy.closes_at,
        },
        "pickup_point": {
            "name": committee.name,
            "address": committee.address,
            "hours": committee.desk_hours,
        },
        "handed_over": handed,
    }


def _queue_part(registration: Registration) -> dict[str, Any]:
    """Place in line, households still waiting ahead, expected day (module doc)."""
    round_obj = registration.round
    requeued_households = Requeue.objects.filter(
        round=round_obj, outcome=Requeue.Outcome.REQUEUED
    ).values("household_id")
    mine = Requeue.objects.filter(
        round=round_obj, household_id=registration.household_id, outcome=Requeue.Outcome.REQUEUED
    ).last()  # the latest: after a shortfall and then an expiry, the expiry's
    out: dict[str, Any] = {"requeued": mine is not None}
    if round_obj.policy == Round.Policy.LOTTERY:
        return out  # the order is the published draw's, not the queue number's
    waiting = _waiting(round_obj, registration).exclude(pk=registration.pk)
    if mine is not None:  # requeued households go first, in the order they came back
        earlier = Requeue.objects.filter(
            round=round_obj, outcome=Requeue.Outcome.REQUEUED, created_at__lt=mine.created_at
        ).values("household_id")
        ahead = waiting.filter(household_id__in=earlier).count()
    else:
        ahead = waiting.filter(
            Q(queue_number__lt=registration.queue_number) | Q(household_id__in=requeued_households)
        ).count()
    out["ahead"] = ahead
    expected = _expected_date(registration, ahead=ahead)
    if expected is not None:
        out["expected_date"] = expected
        out["expected_after_round"] = expected > round_obj.valid_until
    return out


def _expected_date(registration: Registration, *, ahead: int) -> Date | None:
    """The day the households ahead are served at the supply seen so far in the round.

    Households served per day: the average packs per supply day confirmed for the
    committee's pharmacy in the round's purchase dates, split evenly across the
    committees it serves, divided by the packs per household. ``None`` without supply.
    """
    round_obj = registration.round
    pharmacy_id = registration.committee.pharmacy_id
    seen = SupplyDay.objects.filter(
        pharmacy_id=pharmacy_id,
        date__gte=round_obj.valid_from,
        date__lte=round_obj.valid_until,
        packs__gt=0,
    ).aggregate(total=Sum("packs"), days=Count("id"))
    if not seen["days"]:
        return None
    committees = max(Committee.objects.filter(pharmacy_id=pharmacy_id).count(), 1)
    per_day = seen["total"] / seen["days"] / committees / round_obj.packs_per_household
    if per_day <= 0:
        return None
    days = math.ceil((ahead + 1) / per_day)
    start = max(timezone.localdate() + timedelta(days=1), round_obj.valid_from)
    return start + timedelta(days=days - 1)
