"""The resident's online booking of a desk appointment time (issue 16).

``/r/<round>/<committee>/appointment/``: the resident picks their building and room (the
entry page's picker), gives a mobile phone and picks a window with free places; the slot
is taken by ``appointments.appointment_take`` (its lock and the database's constraints
keep windows from overbooking) and its time is shown on a printable page and sent by
SMS (kind "appointment"). Rate limited per IP and per phone like the online entry.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fairshare.community.models import Building, Committee, Household
from fairshare.core.errors import Conflict, FieldErrors, ServiceError, error_messages
from fairshare.core.forms import parse_id, posted_text_check
from fairshare.core.locking import Busy
from fairshare.core.ratelimit import RateLimited, ratelimit_enforce
from fairshare.registration.appointments import appointment_take, windows_bookable
from fairshare.registration.models import Appointment, AppointmentWindow
from fairshare.registration.validation import normalize_phone
from fairshare.registration.views import _place, building_choice, rooms_by_floor
from fairshare.rounds.models import Round

FIELDS = ("building", "room", "name", "phone", "window")


@require_http_methods(["GET", "POST"])
def appointment(request: HttpRequest, round_id: int, committee_code: str) -> HttpResponse:
    round_obj, committee = _place(round_id, committee_code)
    buildings, building, rooms, data = building_choice(request, committee)
    windows = list(windows_bookable(round=round_obj, committee=committee, now=timezone.now()))
    context: dict[str, Any] = {
        "round": round_obj,
        "committee": committee,
        "buildings": buildings,
        "building": building,
        "rooms": rooms,
        "floors": rooms_by_floor(rooms),
        "windows": windows,
        "errors": {},
        "values": data,
    }
    status = 200
    if request.method == "POST":
        try:
            posted_text_check(request.POST, fields=FIELDS)
            booked, existed = _book(request, round_obj, committee, building)
            return render(
                request,
                "registration/appointment_booked.html",
                {"round": round_obj, "committee": committee, "booked": booked, "existed": existed},
            )
        except RateLimited as exc:
            context["errors"], status = error_messages(exc), 429
        except ServiceError as exc:
            context["errors"], status = error_messages(exc), exc.status_code
        except Busy as exc:
            context["errors"], status = {"general": [str(exc.message)]}, 503
    return render(request, "registration/appointment_online.html", context, status=status)


def _book(
    request: HttpRequest, round_obj: Round, committee: Committee, building: Building | None
) -> tuple[Appointment, bool]:
    """Take the slot; (the appointment, whether the household already had it)."""
    post = request.POST
    phone_key = normalize_phone(post.get("phone")) or post.get("phone", "")[:32]
    ratelimit_enforce(name="register", request=request, phone=phone_key)
    errors = FieldErrors()
    room_id = parse_id(post.get("room"))
    household = (
        Household.objects.select_related("committee").filter(pk=room_id, building=building).first()
        if building is not None and room_id is not None
        else None
    )
    if building is None:
        errors.add("building", _("Please choose your building."))
    elif household is None:
        errors.add("room", _("Please choose your room."))
    window_id = parse_id(post.get("window"))
    window = (
        AppointmentWindow.objects.filter(pk=window_id, round=round_obj, committee=committee).first()
        if window_id is not None
        else None
    )
    if window is None:
        errors.add("window", _("Please choose a time."))
    if errors:
        raise errors
    assert household is not None and window is not None
    existed = Appointment.objects.filter(window=window, household=household).exists()
    booked = appointment_take(
        window=window,
        household=household,
        name=post.get("name", ""),
        phone=post.get("phone", ""),
        phone_required=True,
    )
    if existed and normalize_phone(booked.phone) != normalize_phone(post.get("phone")):
        # Somebody else's booking for this room: say it exists, never when or where.
        raise Conflict(
            _(
                "This household already has an appointment in this time window; its time "
                "was sent to the phone number given then."
            ),
            code="appointment_exists",
        )
    return booked, existed
