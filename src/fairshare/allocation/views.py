"""Staff pages: supply declaration, allocation runs, a committee's vouchers and slips."""

from __future__ import annotations

from datetime import date as Date
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.requests import StaffRequest
from fairshare.allocation import selectors
from fairshare.allocation.preview import (
    figures_of,
    preview_changes,
    preview_rows,
    preview_seen,
    preview_token,
)
from fairshare.allocation.services import allocation_run_as, supply_declare_as
from fairshare.allocation.slips import slips_pdf
from fairshare.community.models import Pharmacy
from fairshare.core.errors import FieldErrors, Forbidden, NotFound, ServiceError, error_messages
from fairshare.core.forms import once_per_form, posted_text_check, posted_text_errors
from fairshare.rounds.models import Round

PAGE_LIMIT = 500


def _day(request: HttpRequest) -> Date:
    try:
        return Date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.localdate()


def _committee(request: StaffRequest, code: str):
    try:
        return selectors.committee_for_staff(user=request.user, code=code)
    except (Forbidden, NotFound):
        raise Http404 from None  # do not reveal committees outside the user's area


@login_required
def committee_vouchers(request: StaffRequest, code: str) -> HttpResponse:
    committee = _committee(request, code)
    day = _day(request)
    vouchers = selectors.committee_vouchers(committee=committee, date=day)
    return render(
        request,
        "allocation/committee_vouchers.html",
        {
            "committee": committee,
            "day": day,
            "vouchers": vouchers[:PAGE_LIMIT],
            "total": vouchers.count(),
            "limit": PAGE_LIMIT,
        },
    )


@login_required
def committee_slips(request: StaffRequest, code: str) -> HttpResponse:
    committee = _committee(request, code)
    day = _day(request)
    pdf = slips_pdf(
        committee=committee,
        vouchers=list(selectors.committee_vouchers(committee=committee, date=day)),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="vouchers-{code}-{day}.pdf"'
    return response


# --- Supply declaration and allocation pages (same services as the API) ----------------


def _status(errors: dict[str, list[str]], exc: ServiceError | None) -> int:
    if not errors:
        return 200
    return exc.status_code if exc is not None else 422


def _supply_submit(request: StaffRequest, pharmacy: Pharmacy, values: dict[str, str]) -> None:
    """Declare the posted stock and say so; a ServiceError carries the field errors."""
    try:
        day = Date.fromisoformat(values["date"])
    except ValueError:
        raise FieldErrors({"date": [_("Enter a date like 2020-02-03.")]}) from None
    declaration = supply_declare_as(
        actor=request.user,
        pharmacy=pharmacy,
        date=day,
        # Digits become a number; anything else is passed on for the service to refuse
        # (it types ``packs`` as int, but it is the one place with that rule).
        packs=int(values["packs"]) if values["packs"].isdigit() else values["packs"],
        manufacturer=values["manufacturer"],
        style=values["style"],
        unit_price=values["unit_price"],
    )
    messages.success(
        request,
        _("Declared %(packs)s packs for %(date)s; the day's total is %(total)s.")
        % {
            "packs": declaration.packs,
            "date": day.isoformat(),
            "total": declaration.supply_day.packs,
        },
    )


def supply_pharmacy_chosen(request: StaffRequest) -> tuple[list[Pharmacy], Pharmacy]:
    """The pharmacies whose supply the user may declare, and the one the form names
    (the first by default): none → 403, one outside them → 404."""
    pharmacies = list(selectors.supply_pharmacies(user=request.user))
    if not pharmacies:
        raise PermissionDenied
    chosen = request.POST.get("pharmacy") or request.GET.get("pharmacy") or pharmacies[0].code
    pharmacy = next((p for p in pharmacies if p.code == chosen), None)
    if pharmacy is None:
        raise Http404
    return pharmacies, pharmacy


@login_required
@once_per_form
def supply_page(request: StaffRequest) -> HttpResponse:
    """A pharmacy (or its area's staff) declares a day's stock; corrections supersede."""
    pharmacies, pharmacy = supply_pharmacy_chosen(request)
    tomorrow = timezone.localdate() + timedelta(days=1)
    values = {
        "date": tomorrow.isoformat(),
        "packs": "",
        "manufacturer": "",
        "style": "",
        "unit_price": "",
    }
    errors: dict[str, list[str]] = {}
    failure: ServiceError | None = None
    if request.method == "POST":
        values = {key: request.POST.get(key, "").strip() for key in values}
        try:
            posted_text_check(request.POST, fields=tuple(values))
            _supply_submit(request, pharmacy, values)
        except ServiceError as exc:
            errors, failure = error_messages(exc), exc
        else:
            return redirect(f"{request.path}?pharmacy={pharmacy.code}")
    return render(
        request,
        "allocation/supply.html",
        {
            "pharmacies": pharmacies,
            "pharmacy": pharmacy,
            "values": values,
            "errors": errors,
            "recent": selectors.supply_recent(pharmacy=pharmacy),
        },
        status=_status(errors, failure),
    )


def _allocate(
    request: StaffRequest, round_: Round, day: Date, pharmacy: str, confirm: str
) -> tuple[dict[str, Any], int]:
    """Preview (always first, from the engine's dry run); with a confirmation whose
    figures are still current, the run itself; with a stale one, the new preview and
    what changed (409)."""
    preview = allocation_run_as(
        actor=request.user, round=round_, date=day, pharmacy_code=pharmacy or None, dry_run=True
    )
    rows = preview_rows(preview)
    figures = figures_of(preview, rows)
    context: dict[str, Any] = {
        "preview": preview,
        "rows": rows,
        "token": preview_token(figures, user_id=request.user.pk, pharmacy=pharmacy),
        "sms": sum(r["sms"] for r in rows),
    }
    if not confirm:
        return context, 200
    seen = preview_seen(confirm, user_id=request.user.pk, pharmacy=pharmacy)
    changes = preview_changes(seen, figures) if seen is not None else None
    if changes is None or changes:
        return context | {"stale": True, "changes": changes or []}, 409
    result = allocation_run_as(
        actor=request.user, round=round_, date=day, pharmacy_code=pharmacy or None
    )
    return {"result": result}, 200


@login_required
@once_per_form
def allocate_page(request: StaffRequest) -> HttpResponse:
    """Subdistrict or district staff turn confirmed supply into vouchers: a preview
    first, the run only on its confirmation (``allocation/preview.py``)."""
    rounds = list(selectors.allocatable_rounds(user=request.user))
    if not rounds:
        raise PermissionDenied
    pharmacies = list(selectors.supply_pharmacies(user=request.user))
    values = {
        "round": str(rounds[0].pk),
        "date": timezone.localdate().isoformat(),
        "pharmacy": "",
    }
    errors: dict[str, list[str]] = {}
    failure: ServiceError | None = None
    outcome: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        values = {key: request.POST.get(key, "").strip() for key in values}
        errors = error_messages(posted_text_errors(request.POST, fields=tuple(values)))
        round_ = next((r for r in rounds if str(r.pk) == values["round"]), None)
        if round_ is None:
            errors.setdefault("round", [str(_("Choose a round."))])
        try:
            day = Date.fromisoformat(values["date"])
        except ValueError:
            errors.setdefault("date", [str(_("Enter a date like 2020-02-03."))])
        if not errors and round_ is not None:  # no round chosen → errors["round"] is set
            confirm = request.POST.get("confirm", "")[:4000]
            try:
                outcome, status = _allocate(request, round_, day, values["pharmacy"], confirm)
            except ServiceError as exc:
                errors, failure = error_messages(exc), exc
    context = {"rounds": rounds, "pharmacies": pharmacies, "values": values, "errors": errors}
    return render(
        request,
        "allocation/allocate.html",
        context | outcome,
        status=_status(errors, failure) if errors else status,
    )
