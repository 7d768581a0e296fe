"""The staff registration page: what was registered, and the forms to correct it.

Correct the name or phone (``corrections.registration_correct``), or, for a wrong
building or room, move it: void it and register the right household at the desk with
the next queue number (``corrections.registration_move``). Only registrations of the
user's committees are found (404 otherwise); refused input is shown next to its field
and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fairshare.accounts.requests import StaffRequest
from fairshare.core.errors import ServiceError, error_messages
from fairshare.core.forms import once_per_form, posted_text_check
from fairshare.core.locking import Busy
from fairshare.core.masking import mask_name
from fairshare.registration.corrections import (
    registration_correct,
    registration_move,
    voucher_refusal,
)
from fairshare.registration.lookup import household_resolve, roster_match
from fairshare.registration.models import Registration
from fairshare.registration.selectors import staff_registrations
from fairshare.registration.staff_views import desk_staff


def _registration(request: StaffRequest, pk: int) -> Registration:
    return get_object_or_404(
        staff_registrations(user=request.user).prefetch_related("household__members"), pk=pk
    )


def _page(
    request: StaffRequest,
    registration: Registration,
    *,
    form: str = "",
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    refusal = (
        voucher_refusal(registration) if registration.status != Registration.Status.VOID else None
    )
    context: dict[str, Any] = {
        "registration": registration,
        "roster": [m.name for m in registration.household.members.all()],
        "roster_match": roster_match(registration.household, registration.name),
        "public_name": mask_name(registration.name),
        "correctable": registration.status != Registration.Status.VOID
        and registration.personal_data_purged_at is None,
        "move_refusal": str(refusal.message) if refusal is not None else "",
        "form": form,
        "errors": errors or {},
        "values": request.POST if form else {},
    }
    return render(request, "registration/detail.html", context, status=status)


@desk_staff
def detail(request: StaffRequest, pk: int) -> HttpResponse:
    return _page(request, _registration(request, pk))


@desk_staff
@require_POST
@once_per_form
def correct(request: StaffRequest, pk: int) -> HttpResponse:
    registration = _registration(request, pk)
    try:
        posted_text_check(request.POST, fields=("name", "phone"), multiline=("note",))
        result = registration_correct(
            registration=registration,
            actor=request.user,
            name=request.POST.get("name"),
            phone=request.POST.get("phone"),
            note=request.POST.get("note", ""),
        )
    except ServiceError as exc:
        return _page(
            request,
            registration,
            form="correct",
            errors=error_messages(exc),
            status=exc.status_code,
        )
    except Busy as exc:
        return _page(
            request,
            registration,
            form="correct",
            errors={"general": [str(exc.message)]},
            status=503,
        )
    if result.changed:
        messages.success(request, _("Corrected and recorded in the audit log."))
        if "name" in result.changed and not result.roster_match:
            messages.warning(request, _("The corrected name is not in the household's roster."))
    else:
        messages.info(request, _("Nothing was changed: the values are the same."))
    return redirect("registration:detail", pk=registration.pk)


@desk_staff
@require_POST
@once_per_form
def move(request: StaffRequest, pk: int) -> HttpResponse:
    registration = _registration(request, pk)
    try:
        posted_text_check(
            request.POST, fields=("building", "room", "name", "phone"), multiline=("note",)
        )
        household = household_resolve(
            committee_code=registration.committee.code,
            building=request.POST.get("building", ""),
            room=request.POST.get("room", ""),
        )
        result = registration_move(
            registration=registration,
            actor=request.user,
            household=household,
            name=request.POST.get("name") or None,
            phone=request.POST.get("phone") or None,
            id_checked=request.POST.get("id_checked") == "on",
            note=request.POST.get("note", ""),
        )
    except ServiceError as exc:
        return _page(
            request, registration, form="move", errors=error_messages(exc), status=exc.status_code
        )
    except Busy as exc:
        return _page(
            request, registration, form="move", errors={"general": [str(exc.message)]}, status=503
        )
    messages.success(
        request,
        _("Voided queue number %(old)s; registered at %(address)s with queue number %(new)s.")
        % {
            "old": result.voided.queue_number,
            "address": result.registration.household,
            "new": result.registration.queue_number,
        },
    )
    return redirect("registration:slip", pk=result.registration.pk)
