"""Committee staff pages: keyboard-first desk, slip, review queue, photos, batch entry.

Every page requires login and filters through fairshare.accounts.scoping, so staff
see and change only their own committee (or their subdistrict / district).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fairshare.accounts.models import User
from fairshare.accounts.permissions import DESK_ROLES, has_access, has_role
from fairshare.accounts.requests import StaffRequest
from fairshare.accounts.scoping import scoped
from fairshare.community.models import Committee, Household
from fairshare.core.errors import FieldErrors, ServiceError, error_messages
from fairshare.core.forms import parse_id, posted_text_check, posted_text_errors
from fairshare.core.locking import Busy
from fairshare.core.phones import has_mobile
from fairshare.registration.address import address_split
from fairshare.registration.desk_lookup import desk_household, desk_lookup, household_open
from fairshare.registration.selectors import (
    photo_registrations,
    staff_registrations,
)
from fairshare.registration.services import (
    AlreadyRegistered,
    registration_create,
    registration_submit,
)
from fairshare.registration.tickets import ticket_display
from fairshare.rounds.models import Round
from fairshare.rounds.selectors import rounds_covering_q


def desk_staff(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Login required, and only committee-side staff (committee users, helpers and their
    subdistrict / district admins): pharmacy staff get 403, not an empty page."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not has_role(request.user, *DESK_ROLES):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _scoped_committee(user: User, code: str) -> Committee:
    committee = scoped(Committee.objects.select_related("subdistrict"), user, "").filter(code=code)
    found = committee.first()
    if found is None or not has_access(user):
        raise Http404
    return found


def _round_for(committee: Committee, round_id: int) -> Round:
    covering = rounds_covering_q(
        subdistrict_id=committee.subdistrict_id, district_id=committee.subdistrict.district_id
    )
    return get_object_or_404(Round.objects.filter(covering), pk=round_id)


@desk_staff
def desk_home(request: StaffRequest) -> HttpResponse:
    committee = scoped(Committee.objects.select_related("subdistrict"), request.user, "").first()
    if committee is None:
        raise Http404
    round_obj = (
        Round.objects.filter(
            rounds_covering_q(
                subdistrict_id=committee.subdistrict_id,
                district_id=committee.subdistrict.district_id,
            ),
            status=Round.Status.OPEN,
        )
        .order_by("-registration_opens_at")
        .first()
    )
    if round_obj is None:
        raise Http404
    return redirect("registration:desk", round_id=round_obj.pk, committee_code=committee.code)


def _posted_household(request: StaffRequest, committee: Committee) -> Household:
    """The desk form's household (a hidden id): not one of the committee's → 404."""
    household_pk = parse_id(request.POST.get("household"))
    household = (
        Household.objects.filter(pk=household_pk, committee=committee).first()
        if household_pk is not None
        else None
    )
    if household is None:
        raise Http404
    return household


@desk_staff
def desk(request: StaffRequest, round_id: int, committee_code: str) -> HttpResponse:
    committee = _scoped_committee(request.user, committee_code)
    round_obj = _round_for(committee, round_id)
    context: dict[str, Any] = {"round": round_obj, "committee": committee, "errors": {}}
    status = 200
    q = request.GET.get("q", "")
    household = None
    if request.method == "POST":
        household = _posted_household(request, committee)
        try:
            posted_text_check(request.POST, fields=("name", "phone"))
            result = registration_create(
                round=round_obj,
                household=household,
                name=request.POST.get("name", ""),
                phone=request.POST.get("phone", ""),
                channel="phone" if request.POST.get("channel") == "phone" else "desk",
                actor=request.user,
                id_checked=request.POST.get("id_checked") == "on",
            )
            slip_url = reverse("registration:slip", args=[result.registration.pk])
            return redirect(f"{slip_url}?print=1")  # the slip opens the print dialog
        except AlreadyRegistered:
            status = 409  # the page below shows the existing registration
        except ServiceError as exc:
            context["errors"], status = error_messages(exc), exc.status_code
        except Busy as exc:
            context["errors"], status = {"general": [str(exc.message)]}, 503
        context["values"] = request.POST
    elif request.GET.get("h"):
        household = household_open(committee=committee, household_id=parse_id(request.GET["h"]))
        if household is None:
            raise Http404
    elif q:
        found = desk_lookup(committee=committee, round_obj=round_obj, text=q)
        household = found.household
        context.update(matches=found.matches, from_form=found.from_form)
        if found.error:
            context["errors"], status = {"q": [found.error]}, found.error_status
    if household is not None:
        context.update(desk_household(round_obj=round_obj, household=household))
        if context["existing"] is not None and context.get("from_form"):
            status = 409  # a form used twice: its registration is shown
    context["q"] = q
    return render(request, "registration/desk.html", context, status=status)


@desk_staff
def slip(request: StaffRequest, pk: int) -> HttpResponse:
    registration = get_object_or_404(staff_registrations(user=request.user), pk=pk)
    return render(
        request,
        "registration/slip.html",
        {
            "registration": registration,
            "ticket": ticket_display(registration.ticket),
            "no_mobile": not has_mobile(registration.phone),
            "autoprint": request.GET.get("print") == "1",
        },
    )


@desk_staff
def photo_file(request: StaffRequest, pk: int) -> FileResponse:
    """The uploaded photo, only for staff whose scope covers the registration's committee."""
    registration = get_object_or_404(
        photo_registrations(user=request.user).select_related("photo"), pk=pk
    )
    photo = getattr(registration, "photo", None)
    if photo is None:
        raise Http404
    # Through the private storage (local folder, database or S3: core/filestore.py).
    response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


def _parse_sheet_time(text: str) -> datetime | None:
    text = (text or "").strip()
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%H:%M", "%H:%M:%S"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if fmt.startswith("%H"):
            parsed = datetime.combine(timezone.localdate(), parsed.time())
        return timezone.make_aware(parsed)
    return None


@desk_staff
def batch(request: StaffRequest, round_id: int, committee_code: str) -> HttpResponse:
    """Building-sheet / phone entries in sheet order, each with the sheet's own time.

    One line per household: ``building-room, name, phone, time`` (time "HH:MM" today
    or "YYYY-MM-DD HH:MM"). Each line is its own registration (own transaction), entered
    in line order: the line order fixes the queue numbers (entry time), the sheet's time
    is kept as ``written_at`` (shown, never orders).
    """
    committee = _scoped_committee(request.user, committee_code)
    round_obj = _round_for(committee, round_id)
    results: list[dict[str, Any]] = []
    # The lines are one multi-line field; their cells are split on commas and tabs.
    errors = posted_text_errors(request.POST, multiline=("rows",)) if request.POST else None
    if request.method == "POST" and not errors:
        channel = "phone" if request.POST.get("channel") == "phone" else "sheet"
        for number, line in enumerate(request.POST.get("rows", "").splitlines()[:500], 1):
            if not line.strip():
                continue
            results.append(
                {
                    "line": number,
                    "text": line,
                    **_batch_row(round_obj, committee, channel, line, request.user),
                }
            )
    # Failed lines go back into the form with their messages, so staff fix, not retype.
    failed = [r for r in results if r.get("error")]
    return render(
        request,
        "registration/batch.html",
        {
            "round": round_obj,
            "committee": committee,
            "results": results,
            "failed": failed,
            "kept_rows": "\n".join(r["text"] for r in failed),
            "values": request.POST,
            "errors": error_messages(errors) if errors else {},
        },
        status=422 if errors else 200,
    )


def _batch_row(
    round_obj: Round, committee: Committee, channel: str, line: str, user: User
) -> dict[str, Any]:
    cells = [c.strip() for c in re.split(r"[,，\t]", line)]
    if len(cells) < 4:
        return {"error": _("Expected: building-room, name, phone, time")}
    at = _parse_sheet_time(cells[3])
    if at is None:
        return {"error": _("Unreadable time (use HH:MM or YYYY-MM-DD HH:MM).")}
    building_text, room_text = address_split(cells[0])
    try:
        result = registration_submit(
            round_id=round_obj.pk,
            committee_code=committee.code,
            building=building_text,
            room=room_text,
            name=cells[1],
            phone=cells[2],
            channel=channel,
            actor=user,
            written_at=at,
        )
    except AlreadyRegistered as exc:
        return {"error": str(exc.message)}
    except FieldErrors as exc:
        return {"error": "; ".join(m for ms in error_messages(exc).values() for m in ms)}
    except (ServiceError, Busy) as exc:
        return {"error": str(exc.message)}
    return {
        "queue_number": result.registration.queue_number,
        "created": result.created,
        "status": result.registration.get_status_display(),
    }
