"""Supply declarations and allocation runs (staff API, bearer tokens).

* ``POST /pharmacies/{code}/supplies``: that pharmacy's staff, or subdistrict/district
  staff of its area (others 403; unknown pharmacy 404) → 201 with the declaration
  and the day's total.
* ``POST /pharmacies/{code}/supplies/shortfall``: the same callers lower a confirmed
  day below what was issued (``allocation/shortfall.py``). Without ``confirm`` → 200, the
  confirmation step: how many vouchers (the latest-issued unbought ones) it would
  cancel, nothing written. With ``confirm`` = that number → 201, done; 422 on the field
  ``packs`` if the number changed meanwhile, or if the packs bought already exceed the
  new figure (a sale cannot be undone).
* ``POST /rounds/{round}/allocations``: subdistrict or district staff of the round's
  district; committee and pharmacy staff get 403. Without ``pharmacy`` the run covers
  every pharmacy of the caller's area that declared supply for the date. Answers 201
  when vouchers were issued, 200 otherwise (dry run, or nothing left to allocate).
  ``issued`` and ``vouchers_issued`` are both the number of vouchers issued;
  ``vouchers`` lists them.
* ``POST /registrations/{ticket}/status`` (anonymous): the resident's lookup, the phone
  in the JSON body (``{"phone": ...}``) so that no access log holds it; the older
  ``GET /registrations/{ticket}?phone=`` stays for old clients, marked deprecated.

The write endpoints accept an ``Idempotency-Key`` header: a retry returns the first
answer (``core/endpoints.py``).
"""

from __future__ import annotations

from datetime import date as Date
from datetime import time
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from fairshare.accounts.auth import bearer
from fairshare.accounts.requests import StaffRequest
from fairshare.allocation import selectors
from fairshare.allocation.engine import AllocationResult
from fairshare.allocation.resident_views import status_lookup
from fairshare.allocation.services import (
    allocation_run_as,
    supply_declare_as,
    voucher_set_fulfilment,
)
from fairshare.allocation.shortfall import shortfall_preview, supply_shortfall_as
from fairshare.allocation.slips import slips_pdf
from fairshare.allocation.tokens import code_display
from fairshare.core.endpoints import Answer, Operation, write_endpoint
from fairshare.core.schemas import Schema as InputSchema
from fairshare.core.schemas import SingleLine
from fairshare.registration.api import ErrorOut
from fairshare.rounds.selectors import round_get

router = Router(tags=["allocation"])


class SupplyIn(InputSchema):
    date: Date
    packs: int
    manufacturer: str
    style: str
    unit_price: Decimal


class AllocationIn(InputSchema):
    date: Date
    pharmacy: str | None = None
    dry_run: bool = False


@router.post("/pharmacies/{code}/supplies", auth=bearer, response={201: dict})
@write_endpoint()
def declare_supply(request: StaffRequest, code: SingleLine, payload: SupplyIn) -> Operation:
    pharmacy = selectors.pharmacy_get(code=code)

    def declare() -> Answer:
        declaration = supply_declare_as(
            actor=request.user,
            pharmacy=pharmacy,
            date=payload.date,
            packs=payload.packs,
            manufacturer=payload.manufacturer,
            style=payload.style,
            unit_price=payload.unit_price,
        )
        round_ = selectors.round_covering(pharmacy=pharmacy, date=payload.date)
        return 201, {
            "id": declaration.pk,
            "pharmacy": pharmacy.code,
            "date": payload.date.isoformat(),
            "packs": declaration.packs,
            "manufacturer": declaration.manufacturer,
            "style": declaration.style,
            "unit_price": str(declaration.unit_price),
            "declared_at": declaration.declared_at.isoformat(),
            "round": round_.pk if round_ else None,
            "day_total": declaration.supply_day.packs,
        }

    return declare


class ShortfallIn(InputSchema):
    date: Date
    packs: int
    confirm: int | None = None  # the number of vouchers the preview said it cancels


@router.post("/pharmacies/{code}/supplies/shortfall", auth=bearer, response={200: dict, 201: dict})
@write_endpoint()
def supply_shortfall(request: StaffRequest, code: SingleLine, payload: ShortfallIn) -> Operation:
    pharmacy = selectors.pharmacy_get(code=code)

    def lower() -> Answer:
        body: dict[str, Any] = {"pharmacy": pharmacy.code, "date": payload.date.isoformat()}
        if payload.confirm is None:
            plan = shortfall_preview(
                actor=request.user, pharmacy=pharmacy, date=payload.date, packs=payload.packs
            )
        else:
            result = supply_shortfall_as(
                actor=request.user,
                pharmacy=pharmacy,
                date=payload.date,
                packs=payload.packs,
                confirm=payload.confirm,
            )
            plan = result.plan
            body |= {
                "cancelled": result.cancelled,
                "by_committee": result.by_committee,
                "sms": result.sms,
                "without_mobile": result.without_mobile,
                "day_total": result.declaration.supply_day.packs,
            }
        body |= {
            "confirmed": payload.confirm is not None,
            "packs": plan.packs,
            "packs_before": plan.before,
            "live_packs": plan.live_packs,
            "redeemed_packs": plan.redeemed_packs,
            "cancel": len(plan.cancel),
            "cancel_packs": plan.cancel_packs,
        }
        return (201 if payload.confirm is not None else 200), body

    return lower


def _result_body(result: AllocationResult) -> dict[str, Any]:
    return {
        "round": result.round.pk,
        "date": result.date.isoformat(),
        "dry_run": result.dry_run,
        "issued": result.issued,
        "vouchers_issued": result.issued,
        "held_for_review": result.held_for_review,
        "packs_available": sum(p.packs_available for p in result.pharmacies),
        "packs_unused": result.packs_unused,
        "by_committee": result.by_committee,
        "vouchers": [
            {
                "code": code_display(v.code) if v.code else None,
                "committee": getattr(v, "committee_code", None),
                "queue_number": getattr(v, "queue_number", None),
                "pharmacy": p.pharmacy.code,
                "slot_start": v.slot_start.strftime("%H:%M") if v.slot_start else None,
                "slot_end": v.slot_end.strftime("%H:%M") if v.slot_end else None,
                "fulfilment": v.fulfilment,
            }
            for p in result.pharmacies
            for v in p.vouchers
        ],
    }


@router.post("/rounds/{round_id}/allocations", auth=bearer, response={200: dict, 201: dict})
@write_endpoint()
def run_allocation(request: StaffRequest, round_id: int, payload: AllocationIn) -> Operation:
    round_ = round_get(round_id=round_id)

    def allocate() -> Answer:
        result = allocation_run_as(
            actor=request.user,
            round=round_,
            date=payload.date,
            pharmacy_code=payload.pharmacy,
            dry_run=payload.dry_run,
        )
        return (201 if result.issued and not result.dry_run else 200), _result_body(result)

    return allocate


@router.get("/committees/{code}/voucher-slips.pdf", auth=bearer)
def voucher_slips(request: StaffRequest, code: SingleLine, date: Date) -> HttpResponse:
    committee = selectors.committee_for_staff(user=request.user, code=code)
    pdf = slips_pdf(
        committee=committee,
        vouchers=list(selectors.committee_vouchers(committee=committee, date=date)),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="vouchers-{code}-{date}.pdf"'
    return response


class FulfilmentIn(InputSchema):
    fulfilment: str


@router.post("/vouchers/{code}/fulfilment", auth=bearer, response={200: dict})
@write_endpoint()
def set_fulfilment(request: StaffRequest, code: SingleLine, payload: FulfilmentIn) -> Operation:
    """Committee staff (or their subdistrict/district) switch pickup / proxy / delivery."""
    voucher = selectors.voucher_for_committee_staff(user=request.user, code=code)

    def switch() -> Answer:
        changed = voucher_set_fulfilment(
            voucher=voucher, fulfilment=payload.fulfilment, actor=request.user
        )
        return 200, {"code": code_display(changed.code), "fulfilment": changed.fulfilment}

    return switch


# A registration's status with its voucher: registration cannot read vouchers, so the
# resident status endpoint lives here (its path and tag are registration's).
class BatchOut(Schema):
    manufacturer: str
    style: str
    unit_price: Decimal


class VoucherOut(Schema):
    code: str
    pharmacy: str
    date: Date
    slot_start: time | None
    slot_end: time | None
    status: str
    batch: BatchOut


class OwnLinkOut(Schema):
    seq: int
    hash: str


class StateOut(Schema):
    """The one resident-facing state (allocation/resident_state.py), as the page shows it."""

    state: str
    queue_number: int
    packs: int
    pack_description: str
    bring: str
    void_reason: str
    requeued: bool
    ahead: int | None
    expected_date: Date | None
    expected_after_round: bool
    voucher: dict[str, Any] | None
    link: OwnLinkOut | None = None  # the registration's own link in the public chain


class StatusOut(Schema):
    ticket: str
    queue_number: int
    status: str
    committee: str
    round: int
    voucher: VoucherOut | None
    state: StateOut


class StatusLookupIn(InputSchema):
    """The registered phone, in the body: a phone never travels in a URL (access logs)."""

    phone: str


@router.post(
    "/registrations/{ticket}/status",
    auth=None,
    tags=["registration"],
    response={200: StatusOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="A registration's status and voucher (ticket in the path, the registered phone "
    "in the JSON body)",
)
def registration_status_lookup(request: HttpRequest, ticket: SingleLine, payload: StatusLookupIn):
    registration = status_lookup(request, ticket=ticket, phone=payload.phone)
    return selectors.registration_status_dict(registration)


@router.get(
    "/registrations/{ticket}",
    auth=None,
    tags=["registration"],
    response={200: StatusOut, 404: ErrorOut},
    summary="Deprecated: the phone in the query string ends up in access logs; use "
    "POST /registrations/{ticket}/status",
    deprecated=True,
)
def registration_status(request: HttpRequest, ticket: SingleLine, phone: SingleLine = ""):
    """Kept for old clients: as the POST, but a malformed phone is the same 404 as before."""
    registration = status_lookup(request, ticket=ticket, phone=phone, check_phone=False)
    return selectors.registration_status_dict(registration)
