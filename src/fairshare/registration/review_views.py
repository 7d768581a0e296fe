"""The staff review queue: counts, filters, one-by-one and bulk approval, voiding.

Every approval, one or many, goes through ``services.registration_approve`` (its scope
check, its state check under the update and its audit entry); a bulk approval asks for
one confirmation, then approves each selected registration in its own transaction and
reports how many were approved and which were refused and why.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from fairshare.accounts.requests import StaffRequest
from fairshare.community.models import Building
from fairshare.core.errors import FieldErrors, ServiceError, error_messages
from fairshare.core.forms import once_per_form, parse_id, posted_text_check
from fairshare.core.locking import Busy
from fairshare.registration.models import Channel
from fairshare.registration.review_queue import (
    MATCHES,
    STATUSES,
    ReviewFilters,
    review_committees,
    review_counts,
    review_filters,
    review_rows,
)
from fairshare.registration.selectors import photo_registrations, staff_registrations
from fairshare.registration.services import (
    VOID_REASONS,
    registration_approve,
    registration_void,
)
from fairshare.registration.staff_views import desk_staff

BULK_MAX = 200


def _review_url(filters: ReviewFilters) -> str:
    query = filters.query()
    return reverse("registration:review") + (f"?{urlencode(query)}" if query else "")


def _review_page(
    request: StaffRequest, *, error_pk: int | None = None, exc: ServiceError | None = None
) -> HttpResponse:
    """The queue; a refused action's errors show next to its registration's forms."""
    filters = review_filters(user=request.user, data=request.GET)
    committees = list(review_committees(user=request.user))
    committee = filters.committee or (committees[0] if len(committees) == 1 else None)
    context: dict[str, Any] = {
        "rows": review_rows(user=request.user, filters=filters),
        "counts": review_counts(user=request.user, filters=filters),
        "filters": filters,
        "committees": committees,
        "buildings": Building.objects.filter(committee=committee).order_by("label")
        if committee is not None
        else [],
        "channels": Channel.choices,
        "statuses": STATUSES.items(),
        "matches": MATCHES.items(),
        "reasons": VOID_REASONS.items(),
        "errors": error_messages(exc) if exc is not None else {},
        "error_pk": error_pk,
        "values": request.POST if exc is not None else {},
        "show_photos": photo_registrations(user=request.user).exists(),
        "here": _review_url(filters),
    }
    status = exc.status_code if exc is not None else 200
    return render(request, "registration/review.html", context, status=status)


@desk_staff
def review(request: StaffRequest) -> HttpResponse:
    return _review_page(request)


@desk_staff
@require_POST
@once_per_form
def review_action(request: StaffRequest, pk: int, action: str) -> HttpResponse:
    registration = get_object_or_404(staff_registrations(user=request.user), pk=pk)
    if action not in ("approve", "void"):
        raise Http404
    try:
        posted_text_check(request.POST, fields=("reason",), multiline=("note",))
        if action == "approve":
            registration_approve(registration=registration, actor=request.user)
        else:
            registration_void(
                registration=registration,
                actor=request.user,
                reason=request.POST.get("reason", ""),
                note=request.POST.get("note", ""),
            )
    except FieldErrors as exc:  # the form's input: shown next to its fields
        return _review_page(request, error_pk=registration.pk, exc=exc)
    except ServiceError as exc:  # e.g. reviewed meanwhile: the fresh queue says why
        messages.error(request, str(exc.message))
    return redirect(_safe_next(request))


def _safe_next(request: StaffRequest) -> str:
    """Back to the queue with its filters (only a path of the queue itself)."""
    target = request.POST.get("next", "")
    base = reverse("registration:review")
    return target if target.startswith(base) and "//" not in target else base


def _selected_ids(request: StaffRequest) -> list[int]:
    ids = []
    for raw in request.POST.getlist("ids")[:BULK_MAX]:
        pk = parse_id(raw)
        if pk is not None and pk not in ids:
            ids.append(pk)
    return ids


@desk_staff
@require_POST
@once_per_form
def review_bulk(request: StaffRequest) -> HttpResponse:
    """Approve the selected registrations: first a confirmation page, then each one
    through ``registration_approve``; the queue then reports what happened."""
    ids = _selected_ids(request)
    if not ids:
        messages.error(request, _("Select the registrations to approve first."))
        return redirect(_safe_next(request))
    found = {r.pk: r for r in staff_registrations(user=request.user).filter(pk__in=ids)}
    if request.POST.get("confirm") != "yes":
        selected = [found[pk] for pk in ids if pk in found]
        return render(
            request,
            "registration/review_confirm.html",
            {
                "selected": selected,
                "missing": len(ids) - len(selected),
                "next": _safe_next(request),
            },
        )
    approved, refused = 0, []
    for pk in ids:
        registration = found.get(pk)
        if registration is None:
            refused.append(_("#%(id)s: not found in your committees") % {"id": pk})
            continue
        label = f"{registration.committee.code} #{registration.queue_number}"
        try:
            registration_approve(registration=registration, actor=request.user)
            approved += 1
        except ServiceError as exc:
            refused.append(f"{label}: {exc.message}")
        except Busy as exc:
            refused.append(f"{label}: {exc.message}")
    _report(request, approved, refused)
    return redirect(_safe_next(request))


def _report(request: StaffRequest, approved: int, refused: list[str]) -> None:
    messages.success(
        request,
        ngettext("%(n)d registration approved.", "%(n)d registrations approved.", approved)
        % {"n": approved},
    )
    if refused:
        messages.warning(
            request,
            ngettext(
                "%(n)d not approved: %(list)s",
                "%(n)d not approved: %(list)s",
                len(refused),
            )
            % {"n": len(refused), "list": "; ".join(refused)},
        )
