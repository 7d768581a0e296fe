"""Pharmacy pages: today's supply and vouchers, the scan terminal, reconciliation."""

from __future__ import annotations

from datetime import date
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from fairshare.accounts.requests import StaffRequest
from fairshare.community.models import Pharmacy
from fairshare.core.api_errors import localized
from fairshare.core.errors import FieldErrors, Forbidden, ServiceError
from fairshare.core.forms import posted_text_check
from fairshare.pharmacy import selectors, services, terminal
from fairshare.pharmacy.reconciliation_xlsx import reconciliation_book

# Bump when the precached files change shape (a new cache name drops the old one).
SW_VERSION = "fs-terminal-1"


def pharmacy_staff(view):
    """Login required, and only pharmacy staff (their own pharmacy) get the terminal."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            pharmacy = selectors.user_pharmacy(request.user)
        except Forbidden:
            return render(request, "pharmacy/forbidden.html", status=403)
        return view(request, pharmacy, *args, **kwargs)

    return wrapper


def _day(request: HttpRequest) -> date:
    return parse_date(request.GET.get("date") or "") or timezone.localdate()


@pharmacy_staff
def home(request: StaffRequest, pharmacy: Pharmacy) -> HttpResponse:
    context = selectors.pharmacy_day(pharmacy=pharmacy, day=_day(request))
    return render(request, "pharmacy/home.html", {"pharmacy": pharmacy, **context})


def _error_text(exc: ServiceError) -> str:
    if isinstance(exc, FieldErrors):
        return " ".join(localized(m) for msgs in exc.errors.values() for m in msgs)
    return localized(exc.message)


def _scan_redeem(request: StaffRequest, pharmacy: Pharmacy, code: str) -> dict[str, Any]:
    """Sell, unless the voucher is outside its time slot and the cashier has not
    confirmed it yet (then nothing is sold; the page asks)."""
    target = services.voucher_redeem_target(code_or_token=code)
    confirmed = request.POST.get("confirm_outside_slot") == "1"
    if target is not None and target.pharmacy_id == pharmacy.pk and not confirmed:
        slot = terminal.slot_text(target)
        if slot is not None and target.status == target.Status.ISSUED:
            detail = selectors.voucher_detail(target)
            return {"voucher": detail, "verdict": terminal.outside_slot_verdict(slot)}
    redemption = services.voucher_redeem(code_or_token=code, pharmacy=pharmacy, actor=request.user)
    sold = _("Sale completed: %(packs)d pack(s).") % {"packs": redemption.voucher.packs}
    messages.success(request, sold)
    return {
        "voucher": selectors.voucher_detail(redemption.voucher, redemption=redemption),
        "verdict": terminal.verdict("sold", sold),
        "code": "",
    }


def _scan_lookup(request: StaffRequest, pharmacy: Pharmacy, code: str) -> dict[str, Any]:
    voucher = services.voucher_lookup(code_or_token=code, pharmacy=pharmacy, actor=request.user)
    if voucher.pharmacy_id != pharmacy.pk:
        raise Forbidden(_("This voucher belongs to another pharmacy."))
    detail = selectors.voucher_detail(voucher)
    context: dict[str, Any] = {"voucher": detail}
    context["verdict"] = terminal.lookup_verdict(voucher, detail)
    if detail["redeemed_note"]:
        context["error"] = detail["redeemed_note"]
    return context


@pharmacy_staff
def scan(request: StaffRequest, pharmacy: Pharmacy) -> HttpResponse:
    """The terminal. The camera and offline paths run in scan.js against the API; the typed
    path also works as plain form posts (look up, then complete the sale). Every answer
    is a full-screen verdict (``terminal.py``)."""
    context: dict[str, Any] = {"pharmacy": pharmacy}
    if request.method == "POST":
        code = request.POST.get("code", "")
        context["code"] = code
        try:
            posted_text_check(request.POST, fields=("code",))
            if request.POST.get("action") == "redeem":
                context.update(_scan_redeem(request, pharmacy, code))
            else:
                context.update(_scan_lookup(request, pharmacy, code))
        except ServiceError as exc:
            context["error"] = _error_text(exc)
            context["verdict"] = terminal.error_verdict(exc, context["error"])
            context["status"] = exc.status_code
            if exc.status_code in (403, 404):
                context["code"] = ""  # another pharmacy's (or no) voucher: nothing to retry
    return render(request, "pharmacy/scan.html", context, status=context.get("status", 200))


def service_worker(request: HttpRequest) -> HttpResponse:
    """The terminal's service worker (offline reload of the scan page). Served under
    /pharmacy/ so its scope covers the terminal; never cached by the browser's HTTP cache,
    so a new release's worker is picked up on the next load."""
    response = render(
        request,
        "pharmacy/sw.js",
        {"version": SW_VERSION, "scan_url": reverse("pharmacy:scan")},
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache, no-store, must-revalidate"
    response["Service-Worker-Allowed"] = "/pharmacy/"
    return response


@pharmacy_staff
def reconciliation(request: StaffRequest, pharmacy: Pharmacy) -> HttpResponse:
    data = selectors.reconciliation(pharmacy=pharmacy, day=_day(request))
    return render(request, "pharmacy/reconciliation.html", data)


@pharmacy_staff
def reconciliation_xlsx(request: StaffRequest, pharmacy: Pharmacy) -> HttpResponse:
    data = selectors.reconciliation(pharmacy=pharmacy, day=_day(request))
    response = HttpResponse(
        reconciliation_book(data),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"reconciliation-{pharmacy.code}-{data['day'].isoformat()}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
