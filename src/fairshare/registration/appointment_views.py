"""Appointment windows page for desk staff (``registration/appointments.py``): open a
window, take a slot for a resident (slip / SMS), see who is due and who is late."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from fairshare.accounts.requests import StaffRequest
from fairshare.core.errors import ServiceError, error_messages
from fairshare.core.forms import parse_id, posted_text_check
from fairshare.core.locking import Busy
from fairshare.registration.address import address_split
from fairshare.registration.appointments import appointment_take, window_open
from fairshare.registration.lookup import building_find, household_find
from fairshare.registration.models import AppointmentWindow
from fairshare.registration.staff_views import (
    _round_for,
    _scoped_committee,
    desk_staff,
)


def _when(text: str) -> datetime | None:
    try:
        return timezone.make_aware(datetime.strptime((text or "").strip(), "%Y-%m-%dT%H:%M"))
    except ValueError:
        return None


@desk_staff
def appointments(request: StaffRequest, round_id: int, committee_code: str) -> HttpResponse:
    committee = _scoped_committee(request.user, committee_code)
    round_obj = _round_for(committee, round_id)
    context: dict[str, Any] = {"round": round_obj, "committee": committee, "errors": {}}
    status = 200
    if request.method == "POST":
        post = request.POST
        try:
            posted_text_check(post, fields=("desk", "address", "name", "phone"))
            if post.get("action") == "open":
                window_open(
                    round=round_obj,
                    committee=committee,
                    desk=post.get("desk", "1"),
                    starts_at=_when(post.get("starts_at", "")),
                    ends_at=_when(post.get("ends_at", "")),
                    minutes_per_household=parse_id(post.get("minutes_per_household")),
                    actor=request.user,
                )
            else:
                window = get_object_or_404(
                    AppointmentWindow, pk=parse_id(post.get("window")), committee=committee
                )
                building_text, room_text = address_split(post.get("address", ""))
                building = building_find(committee=committee, text=building_text)
                household = household_find(building=building, room=room_text) if building else None
                if household is None:
                    context["errors"], status = (
                        {"address": [_("No household at this address in your committee.")]},
                        404,
                    )
                else:
                    context["taken"] = appointment_take(
                        window=window,
                        household=household,
                        name=post.get("name", ""),
                        phone=post.get("phone", ""),
                    )
        except ServiceError as exc:
            context["errors"], status = error_messages(exc), exc.status_code
        except Busy as exc:
            context["errors"], status = {"general": [str(exc.message)]}, 503
        context["values"] = request.POST
    context["windows"] = AppointmentWindow.objects.filter(round=round_obj, committee=committee)
    return render(request, "registration/appointments.html", context, status=status)
