"""Committee staff's pages of proxy purchase (代购), home delivery and pickup points.

* ``committees/<code>/fulfilment/``: the committee's live vouchers marked for proxy
  purchase or home delivery; switch a voucher (``allocation.services
  .voucher_set_fulfilment``), buy the ticked proxy ones at the pharmacy
  (``fulfilment.voucher_proxy_redeem_batch``) and record each hand-over or delivery with
  who received it (``fulfilment.voucher_handover`` / ``voucher_deliver``);
* ``committees/<code>/pickup/``: the committee's pickup points and the form that buys a
  batch and opens one (``pickup.pickup_point_create``);
* ``committees/<code>/pickup/<id>/`` (and ``.pdf``, the printable list): the point's
  packs, each with its hand-over (who collected it, scan or cash).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.requests import StaffRequest
from fairshare.allocation.models import Voucher
from fairshare.allocation.selectors import voucher_for_committee_staff
from fairshare.allocation.services import voucher_set_fulfilment
from fairshare.allocation.views import _committee
from fairshare.community.models import Committee
from fairshare.core.errors import ServiceError, error_messages
from fairshare.core.forms import posted_text_check
from fairshare.pharmacy import fulfilment, pickup
from fairshare.pharmacy.handover_pdf import handover_list_pdf
from fairshare.pharmacy.models import Handover, PickupPoint

FULFILMENT_FIELDS = ("action", "code", "fulfilment", "recipient_name")


def _fulfilment_post(request: StaffRequest, committee: Committee) -> str:
    posted_text_check(request.POST, fields=FULFILMENT_FIELDS)
    action, data = request.POST.get("action"), request.POST
    if action == "buy":
        result = fulfilment.voucher_proxy_redeem_batch(
            committee=committee,
            pharmacy=committee.pharmacy,
            codes=data.getlist("codes"),
            actor=request.user,
        )
        return str(_("%(n)s vouchers bought.") % {"n": result["redeemed"]})
    voucher = voucher_for_committee_staff(user=request.user, code=data.get("code", ""))
    if action == "switch":
        voucher_set_fulfilment(
            voucher=voucher, fulfilment=data.get("fulfilment", ""), actor=request.user
        )
        return str(_("Voucher switched."))
    record = (
        fulfilment.voucher_deliver
        if voucher.fulfilment == Voucher.Fulfilment.DELIVERY
        else fulfilment.voucher_handover
    )
    record(voucher=voucher, actor=request.user, recipient_name=data.get("recipient_name", ""))
    return str(_("Hand-over recorded."))


@login_required
def fulfilment_page(request: StaffRequest, code: str) -> HttpResponse:
    committee = _committee(request, code)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            done = _fulfilment_post(request, committee)
        except ServiceError as exc:
            errors, status = error_messages(exc), exc.status_code
        else:
            messages.success(request, done)
            return redirect(request.path)
    vouchers = (
        Voucher.objects.filter(
            committee=committee,
            status__in=Voucher.LIVE_STATUSES,
            fulfilment__in=[Voucher.Fulfilment.PROXY, Voucher.Fulfilment.DELIVERY],
        )
        .exclude(registration__channel="emergency")
        .select_related("registration", "household__building", "handover")
        .order_by("date", "registration__queue_number")[:500]
    )
    context: dict[str, Any] = {
        "committee": committee,
        "vouchers": vouchers,
        "errors": errors,
        "values": request.POST,
        "choices": Voucher.Fulfilment.choices,
    }
    return render(request, "pharmacy/committee_fulfilment.html", context, status=status)


def _when(raw: str) -> datetime | None:
    parsed = parse_datetime(raw.strip()) if raw else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


@login_required
def pickup_points_page(request: StaffRequest, code: str) -> HttpResponse:
    committee = _committee(request, code)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            posted_text_check(request.POST, fields=("place", "starts_at", "ends_at", "count"))
            raw = request.POST.get("count", "").strip()
            point = pickup.pickup_point_create(
                committee=committee,
                place=request.POST.get("place", ""),
                starts_at=_when(request.POST.get("starts_at", "")),
                ends_at=_when(request.POST.get("ends_at", "")),
                count=int(raw) if raw.isdigit() else raw,
                actor=request.user,
            )
        except ServiceError as exc:
            errors, status = error_messages(exc), exc.status_code
        else:
            messages.success(request, _("Bought; the pickup point is open."))
            return redirect("pharmacy:pickup_point", code=committee.code, pk=point.pk)
    context: dict[str, Any] = {
        "committee": committee,
        "points": PickupPoint.objects.filter(committee=committee)[:100],
        "purchasable": pickup.purchasable(committee=committee).count(),
        "errors": errors,
        "values": request.POST,
    }
    return render(request, "pharmacy/pickup_points.html", context, status=status)


def _point(request: StaffRequest, code: str, pk: int) -> tuple[Committee, PickupPoint]:
    committee = _committee(request, code)
    point = PickupPoint.objects.filter(pk=pk, committee=committee).select_related("batch").first()
    if point is None:
        raise Http404
    return committee, point


@login_required
def pickup_point_page(request: StaffRequest, code: str, pk: int) -> HttpResponse:
    committee, point = _point(request, code, pk)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            posted_text_check(request.POST, fields=("code", "recipient_name", "payment"))
            pickup.pickup_point_hand_over(
                point=point,
                voucher=voucher_for_committee_staff(
                    user=request.user, code=request.POST.get("code", "")
                ),
                recipient_name=request.POST.get("recipient_name", ""),
                payment=request.POST.get("payment", ""),
                actor=request.user,
            )
        except ServiceError as exc:
            errors, status = error_messages(exc), exc.status_code
        else:
            messages.success(request, _("Hand-over recorded."))
            return redirect(request.path)
    context: dict[str, Any] = {
        "committee": committee,
        "point": point,
        "rows": pickup.pickup_point_rows(point=point),
        "payments": Handover.Payment.choices,
        "errors": errors,
    }
    return render(request, "pharmacy/pickup_point.html", context, status=status)


@login_required
def pickup_point_pdf(request: StaffRequest, code: str, pk: int) -> HttpResponse:
    committee, point = _point(request, code, pk)
    pdf = handover_list_pdf(
        committee=committee, point=point, rows=pickup.pickup_point_rows(point=point)
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="pickup-{committee.code}-{point.pk}.pdf"'
    return response
