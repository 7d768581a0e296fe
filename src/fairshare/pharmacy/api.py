"""Pharmacy terminal API: look up and redeem vouchers, sync offline batches, public stock."""

from __future__ import annotations

import csv
import io
from datetime import date as Date
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.security import django_auth
from pydantic import Field

from fairshare.accounts.auth import bearer
from fairshare.accounts.permissions import COMMITTEE, has_role, is_pharmacy_staff
from fairshare.accounts.requests import StaffRequest
from fairshare.allocation.models import Voucher
from fairshare.allocation.tokens import code_normalize, public_key_b64
from fairshare.community.models import Committee
from fairshare.core.endpoints import Answer, Operation, write_endpoint
from fairshare.core.errors import FieldErrors, Forbidden, NotFound
from fairshare.core.schemas import Moment, SingleLine
from fairshare.core.schemas import Schema as InputSchema
from fairshare.core.spreadsheet import csv_row
from fairshare.pharmacy import fulfilment, offline, selectors, services
from fairshare.pharmacy.stockfeed import FIELDS, stock_feed

router = Router(tags=["pharmacy"])
# Terminal endpoints also accept the page's session (with its CSRF token) so scan.js
# calls the same API as other clients.
terminal_auth = [bearer, django_auth]


class KeyOut(Schema):
    alg: str
    key: str


@router.get("/public/voucher-key", response=KeyOut, auth=None)
def voucher_key(request: HttpRequest) -> dict[str, str]:
    """The Ed25519 public key (base64url, raw 32 bytes) that verifies voucher QR tokens."""
    return {"alg": "Ed25519", "key": public_key_b64()}


@router.get("/vouchers/{code}", auth=terminal_auth)
def voucher_get(request: StaffRequest, code: SingleLine) -> dict[str, Any]:
    """A voucher for the terminal (code or QR token): packs, slot, batch, price, status."""
    user = request.user
    pharmacy = user.pharmacy if is_pharmacy_staff(user) else None
    voucher = services.voucher_lookup(code_or_token=code, pharmacy=pharmacy, actor=user)
    if not selectors.voucher_visible_to(user, voucher):
        if pharmacy is not None:
            raise Forbidden(_("This voucher belongs to another pharmacy."), code="other_pharmacy")
        raise NotFound(_("No voucher has this code."))
    return selectors.voucher_detail(voucher)


class RedeemIn(InputSchema):
    terminal_id: str = Field(default="", max_length=64)


@router.post("/vouchers/{code}/redeem", auth=terminal_auth)
@write_endpoint(group_commit=True)  # SQLite: a rush shares COMMITs (core/groupcommit.py)
def voucher_redeem(
    request: StaffRequest, code: SingleLine, payload: RedeemIn | None = None
) -> Operation:
    """Redeem at the caller's pharmacy. 200; 409 already redeemed (when, where); 403 another
    pharmacy's; 410 expired / not yet valid / cancelled; 404 unknown; 422 malformed or
    forged (logged). Send an Idempotency-Key header to make a retry return the first answer."""
    user = request.user
    pharmacy = selectors.user_pharmacy(user)
    terminal_id = payload.terminal_id if payload else ""
    # Reads first, outside the (shared) write transaction: inside it, only the writes.
    voucher = services.voucher_redeem_target(code_or_token=code)

    def redeem() -> Answer:
        redemption = services.voucher_redeem(
            code_or_token=code,
            pharmacy=pharmacy,
            actor=user,
            terminal_id=terminal_id,
            voucher=voucher,
        )
        return 200, selectors.voucher_detail(redemption.voucher, redemption=redemption)

    return redeem


class OfflineItemIn(InputSchema):
    code: str = Field(default="", max_length=2000)
    token: str = Field(default="", max_length=2000)
    redeemed_at: Moment
    terminal_id: str = Field(default="", max_length=64)


class OfflineBatchIn(InputSchema):
    batch_id: str = Field(max_length=64)
    items: list[OfflineItemIn]


@router.post("/pharmacies/{code}/offline-redemptions", auth=terminal_auth)
@write_endpoint()
def offline_redemptions(
    request: StaffRequest, code: SingleLine, payload: OfflineBatchIn
) -> Operation:
    """Sync redemptions a terminal recorded offline; per item: redeemed, duplicate,
    conflict (recorded, never dropped) or rejected. Re-sending a batch changes nothing."""
    pharmacy = selectors.user_pharmacy(request.user)
    if pharmacy.code != code:
        raise Forbidden(_("You can sync only your own pharmacy's redemptions."))
    items = []
    for item in payload.items:
        at = item.redeemed_at
        if timezone.is_naive(at):
            at = timezone.make_aware(at)
        items.append(
            {"code": item.code or item.token, "redeemed_at": at, "terminal_id": item.terminal_id}
        )
    return lambda: (
        200,
        offline.offline_batch_sync(
            pharmacy=pharmacy, actor=request.user, batch_id=payload.batch_id, items=items
        ),
    )


@router.get("/pharmacies/{code}/reconciliation", auth=bearer)
def reconciliation(
    request: StaffRequest, code: SingleLine, date: Date | None = None
) -> dict[str, Any]:
    pharmacy = get_object_or_404(selectors.reconciliation_pharmacies(request.user), code=code)
    data = selectors.reconciliation(pharmacy=pharmacy, day=date or timezone.localdate())
    return {
        "pharmacy": pharmacy.code,
        "date": data["day"].isoformat(),
        "supply": data["supply"],
        "totals": data["totals"],
        "by_slot": data["by_slot"],
        "by_batch": data["by_batch"],
        "conflicts": [
            {
                **row,
                "offline_at": row["offline_at"].isoformat(),
                "first_at": row["first_at"].isoformat() if row["first_at"] else None,
            }
            for row in data["conflicts"]
        ],
    }


# Open data: cacheable by anyone (browsers, CDNs) for at most this many seconds.
FEED_CACHE_CONTROL = "public, max-age=30"


class StockRowOut(Schema):
    code: str
    name: str
    address: str
    phone: str
    opens_at: str
    closes_at: str
    date: Date
    confirmed_packs: int
    voucher_packs: int
    redeemed_packs: int
    set_aside_packs: int
    unallocated_packs: int
    updated_at: datetime | None


@router.get("/public/pharmacies", response=list[StockRowOut], auth=None)
def public_pharmacies(
    request: HttpRequest, response: HttpResponse, date: Date | None = None
) -> list[dict[str, Any]]:
    """Open data (docs/open-data.md): per pharmacy and day, confirmed supply, packs of
    live vouchers (issued + bought), bought, and unallocated = confirmed − voucher packs,
    with `updated_at`. Today and later days with supply, or the `date` asked for."""
    response["Cache-Control"] = FEED_CACHE_CONTROL
    return stock_feed(day=date)


@router.get("/public/pharmacies.csv", auth=None)
def public_pharmacies_csv(request: HttpRequest, date: Date | None = None) -> HttpResponse:
    """The same rows as `/public/pharmacies`, as CSV (UTF-8 with BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_row(FIELDS))
    for row in stock_feed(day=date):
        writer.writerow(csv_row(row[name] for name in FIELDS))  # no cell read as a formula
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="pharmacies.csv"'
    response["Cache-Control"] = FEED_CACHE_CONTROL
    return response


class ProxyIn(InputSchema):
    codes: list[str]


@router.post("/committees/{code}/proxy-purchases", auth=bearer)
@write_endpoint()
def proxy_purchase(request: StaffRequest, code: SingleLine, payload: ProxyIn) -> Operation:
    """Committee staff buy a batch of their residents' vouchers (代购); per-item results."""
    user = request.user
    if not has_role(user, COMMITTEE):
        raise Forbidden(_("Only committee staff can buy on behalf of residents."))
    committee = get_object_or_404(Committee.objects.select_related("pharmacy"), code=code)
    return lambda: (
        200,
        fulfilment.voucher_proxy_redeem_batch(
            committee=committee, pharmacy=committee.pharmacy, codes=payload.codes, actor=user
        ),
    )


class HandoverIn(InputSchema):
    recipient_name: str = Field(max_length=64)


def _committee_voucher(request: StaffRequest, code: str) -> Voucher:
    canonical = code_normalize(code)
    if canonical is None:
        raise FieldErrors({"code": [_("This is not a valid voucher code.")]})
    voucher = Voucher.objects.filter(code=canonical).first()
    if voucher is None or not selectors.voucher_visible_to(request.user, voucher):
        raise NotFound(_("No voucher has this code."))
    return voucher


@router.post("/vouchers/{code}/handover", auth=bearer)
@write_endpoint()
def handover(request: StaffRequest, code: SingleLine, payload: HandoverIn) -> Operation:
    voucher = _committee_voucher(request, code)

    def hand_over() -> Answer:
        fulfilment.voucher_handover(
            voucher=voucher, actor=request.user, recipient_name=payload.recipient_name
        )
        return 200, _fulfilment_json(voucher)

    return hand_over


@router.post("/vouchers/{code}/delivery", auth=bearer)
@write_endpoint()
def delivery(request: StaffRequest, code: SingleLine, payload: HandoverIn) -> Operation:
    voucher = _committee_voucher(request, code)

    def deliver() -> Answer:
        fulfilment.voucher_deliver(
            voucher=voucher, actor=request.user, recipient_name=payload.recipient_name
        )
        return 200, _fulfilment_json(voucher)

    return deliver


def _fulfilment_json(voucher: Voucher) -> dict[str, Any]:
    """The voucher's fulfilment as JSON (re-read: the service wrote it)."""
    voucher.refresh_from_db()
    data = selectors.voucher_fulfilment(voucher)
    data["redeemed_at"] = data["redeemed_at"].isoformat() if data["redeemed_at"] else None
    if data["handover"]:
        data["handover"]["at"] = data["handover"]["at"].isoformat()
    return data
