"""Resident pages: entry (online and photo), confirmation, stairwell QR poster.

The status page shows the voucher, so it lives in ``allocation/views.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, TypedDict, TypeVar

import segno
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fairshare.community.models import Building, Committee, Household
from fairshare.core.dbguard import RETRY_AFTER_SECONDS
from fairshare.core.errors import FieldErrors, ServiceError, error_messages
from fairshare.core.forms import parse_id, posted_text_check
from fairshare.core.locking import Busy
from fairshare.core.ratelimit import RateLimited, ratelimit_enforce
from fairshare.registration.models import Registration
from fairshare.registration.phonecodes import phone_code_send
from fairshare.registration.photos import MAX_PHOTO_BYTES, registration_create_with_photo
from fairshare.registration.rushproof import form_key_new, registration_once
from fairshare.registration.services import registration_create
from fairshare.registration.tickets import ticket_display
from fairshare.registration.validation import normalize_phone
from fairshare.rounds.models import Round
from fairshare.rounds.selectors import round_covers_committee

SESSION_TICKETS = "registration_tickets"
Room = TypeVar("Room", bound=Mapping[str, object])
# The entry form's fields that show their errors (all single-line).
ENTRY_FIELDS = ("building", "room", "name", "phone", "sms_code", "returned_from", "returned_on")


def _date_or_none(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _place(round_id: int, committee_code: str) -> tuple[Round, Committee]:
    round_obj = get_object_or_404(Round, pk=round_id)
    committee = get_object_or_404(
        Committee.objects.select_related("subdistrict", "pharmacy"), code=committee_code
    )
    if not round_covers_committee(
        round_obj,
        subdistrict_id=committee.subdistrict_id,
        district_id=committee.subdistrict.district_id,
    ):
        raise Http404
    return round_obj, committee


def rooms_by_floor(rooms: Sequence[Room]) -> list[tuple[str, list[Room]]]:
    """Rooms grouped by floor for the picker: ``301`` and ``302`` under floor 3; a room
    that is not ``<floor><2 digits>`` goes under "" (shown without a floor heading)."""
    floors: dict[str, list[Room]] = {}
    for room in rooms:
        label = str(room["room"])
        floor = label[:-2] if len(label) >= 3 and label.isdigit() else ""
        floors.setdefault(floor, []).append(room)
    return sorted(floors.items(), key=lambda item: (not item[0], len(item[0]), item[0]))


def building_choice(
    request: HttpRequest, committee: Committee
) -> tuple[list[Building], Building | None, list[Mapping[str, Any]], QueryDict]:
    """The committee's buildings, the one the request names (posted, else in the query),
    that building's rooms (``id``, ``room``) and the data the choice was read from."""
    buildings = list(Building.objects.filter(committee=committee).order_by("sort_order", "label"))
    data = request.POST if request.method == "POST" else request.GET
    building_id = parse_id(data.get("building"))
    building = next((b for b in buildings if b.pk == building_id), None)
    rooms: list[Mapping[str, Any]] = (
        list(Household.objects.filter(building=building).order_by("room").values("id", "room"))
        if building
        else []
    )
    return buildings, building, rooms, data


def _remember_ticket(request: HttpRequest, ticket: str) -> None:
    tickets = request.session.get(SESSION_TICKETS, [])[-9:]
    request.session[SESSION_TICKETS] = [*tickets, ticket]


@require_http_methods(["GET", "POST"])
def entry(
    request: HttpRequest, round_id: int, committee_code: str, photo: bool = False
) -> HttpResponse:
    """The per-committee entry page (QR code target); ``photo`` is the one-photo variant."""
    round_obj, committee = _place(round_id, committee_code)
    buildings, building, rooms, data = building_choice(request, committee)
    errors: dict[str, list[str]] = {}
    notice = ""
    status, retry_after = 200, 0
    open_now = round_obj.registration_is_open()
    if request.method == "POST" and open_now:
        try:
            posted_text_check(request.POST, fields=ENTRY_FIELDS)
            if request.POST.get("action") == "send_code":
                phone = normalize_phone(request.POST.get("phone")) or request.POST.get("phone", "")
                ratelimit_enforce(name="sms_code", request=request, phone=phone[:32])
                phone_code_send(phone=request.POST.get("phone", ""))
                notice = _("We sent a code by SMS. Enter it below.")
            else:
                return _register(request, round_obj, committee, building, photo)
        except RateLimited as exc:
            errors, status, retry_after = error_messages(exc), 429, exc.retry_after
        except ServiceError as exc:
            errors, status = error_messages(exc), exc.status_code
        except Busy as exc:
            errors, status = {"general": [str(exc.message)]}, 503
            retry_after = RETRY_AFTER_SECONDS  # as the database guard answers
    context = {
        "round": round_obj,
        "committee": committee,
        "buildings": buildings,
        "building": building,
        "rooms": rooms,
        "floors": rooms_by_floor(rooms),
        "open_now": open_now,
        "errors": errors,
        "notice": notice,
        "values": data,
        "photo_mode": photo,
        "form_key": form_key_new(),  # a fresh one per render: see rushproof.py
    }
    response = render(request, "registration/entry.html", context, status=status)
    if retry_after:  # the page's script waits this long, then sends the form again
        response["Retry-After"] = str(retry_after)
    return response


class _EntryFields(TypedDict):
    """The keywords shared by the online and the photo entry."""

    round: Round
    household: Household
    name: str
    phone: str
    returned_recently: bool
    returned_from: str
    returned_on: date | None


def _register(
    request: HttpRequest,
    round_obj: Round,
    committee: Committee,
    building: Building | None,
    photo: bool,
) -> HttpResponse:
    post = request.POST
    phone_key = normalize_phone(post.get("phone")) or post.get("phone", "")[:32]
    ratelimit_enforce(name="register", request=request, phone=phone_key)
    errors = FieldErrors()
    if building is None:
        errors.add("building", _("Please choose your building."))
        raise errors
    room_id = parse_id(post.get("room"))
    household = (
        Household.objects.filter(pk=room_id, building=building).first()
        if room_id is not None
        else None
    )
    if household is None:
        errors.add("room", _("Please choose your room."))
        raise errors
    common: _EntryFields = {
        "round": round_obj,
        "household": household,
        "name": post.get("name", ""),
        "phone": post.get("phone", ""),
        "returned_recently": post.get("returned_recently") == "on",
        "returned_from": post.get("returned_from", ""),
        "returned_on": _date_or_none(post.get("returned_on")),
    }

    def register() -> str:
        if photo:
            upload = request.FILES.get("photo")
            content = upload.read(MAX_PHOTO_BYTES + 1) if upload else b""
            result = registration_create_with_photo(
                photo=content, phone_code=post.get("sms_code"), **common
            )
        else:
            result = registration_create(
                channel="online", phone_code=post.get("sms_code"), **common
            )
        return result.registration.ticket

    scope = f"{round_obj.pk}:{committee.code}:{'photo' if photo else 'online'}"
    ticket = registration_once(request=request, scope=scope, register=register)
    _remember_ticket(request, ticket)
    return redirect("registration:done", ticket=ticket)


def done(request: HttpRequest, ticket: str) -> HttpResponse:
    """Confirmation, shown only in the browser session that registered."""
    if ticket not in request.session.get(SESSION_TICKETS, []):
        return redirect("resident_status")
    registration = get_object_or_404(
        Registration.objects.select_related("round", "committee", "household__building"),
        ticket=ticket,
    )
    return render(
        request,
        "registration/done.html",
        {"registration": registration, "ticket": ticket_display(ticket)},
    )


def poster(request: HttpRequest, round_id: int, committee_code: str, building_id: int):
    """A printable A4 stairwell notice with a QR code to the entry page, building preselected."""
    round_obj, committee = _place(round_id, committee_code)
    building = get_object_or_404(Building, pk=building_id, committee=committee)
    path = reverse("registration:entry", args=[round_obj.pk, committee.code])
    url = request.build_absolute_uri(f"{path}?building={building.pk}")
    qr = segno.make(url, error="m")
    svg = qr.svg_inline(scale=10, border=2, title=committee.name)
    return render(
        request,
        "registration/poster.html",
        {
            "round": round_obj,
            "committee": committee,
            "building": building,
            "url": url,
            "qr_svg": mark_safe(svg),  # noqa: S308 - generated by segno from our own URL
        },
    )
