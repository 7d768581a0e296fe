"""Committee staff pages for the pre-filled mailbox forms: the committee's buildings,
each with its PDF (``allocation/mailbox_forms.py``); the desk reads the forms' QR."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from fairshare.accounts.requests import StaffRequest
from fairshare.allocation.mailbox_forms import mailbox_forms_pdf
from fairshare.community.models import Building
from fairshare.registration.staff_views import _round_for, _scoped_committee, desk_staff

HOUSEHOLD_LIMIT = 2000


@desk_staff
def mailbox_forms(request: StaffRequest, round_id: int, committee_code: str) -> HttpResponse:
    committee = _scoped_committee(request.user, committee_code)
    round_obj = _round_for(committee, round_id)
    buildings = Building.objects.filter(committee=committee).order_by("sort_order", "label")
    return render(
        request,
        "allocation/mailbox_forms.html",
        {"round": round_obj, "committee": committee, "buildings": buildings},
    )


@desk_staff
def mailbox_forms_building(
    request: StaffRequest, round_id: int, committee_code: str, building_id: int
) -> HttpResponse:
    committee = _scoped_committee(request.user, committee_code)
    round_obj = _round_for(committee, round_id)
    building = get_object_or_404(
        Building.objects.select_related("committee"), pk=building_id, committee=committee
    )
    households = list(building.households.order_by("room")[:HOUSEHOLD_LIMIT])
    pdf = mailbox_forms_pdf(round_obj=round_obj, building=building, households=households)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"mailbox-forms-{committee.code}-{building.pk}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
