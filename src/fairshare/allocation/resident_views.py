"""The resident status page (ticket + phone, or the signed personal link ``/r/s/<token>/``):
the one resident-facing state of ``allocation/resident_state.py``.

It reads vouchers, so it lives here rather than in ``registration``; its URL stays
``/r/status/`` (``fairshare/urls.py``, name ``resident_status``). ``status_lookup`` is the
one lookup of the page and of ``POST /api/v1/registrations/{ticket}/status``; the phone
always comes in a request body, never in a URL (access logs keep URLs).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from fairshare.allocation import selectors
from fairshare.allocation.models import Voucher
from fairshare.core.errors import FieldErrors, ServiceError, error_messages
from fairshare.core.forms import posted_text_check
from fairshare.core.ratelimit import ratelimit_enforce
from fairshare.registration.models import Registration
from fairshare.registration.selectors import registration_lookup
from fairshare.registration.status_link import status_token_read
from fairshare.registration.tickets import ticket_display
from fairshare.registration.validation import clean_phone, normalize_phone


def status_lookup(
    request: HttpRequest, *, ticket: str, phone: str, check_phone: bool = True
) -> Registration:
    """The registration of ``ticket`` + ``phone``, rate-limited (``status``).

    One answer (NotFound) for an unknown ticket and a wrong phone, so neither can be
    probed; with ``check_phone`` a missing or malformed phone is a per-field error (422)
    instead (it says nothing about any registration).
    """
    ratelimit_enforce(name="status", request=request, phone=normalize_phone(phone) or phone[:32])
    if check_phone:
        errors = FieldErrors()
        clean_phone(phone, errors)
        if errors:
            raise errors
    return registration_lookup(ticket=ticket, phone=phone)


@require_http_methods(["GET", "POST"])
def status_page(request: HttpRequest) -> HttpResponse:
    """Status by ticket + phone (POST, so the phone number stays out of URLs and logs)."""
    context: dict[str, Any] = {"errors": {}, "values": request.POST}
    status = 200
    if request.method == "POST":
        try:
            posted_text_check(request.POST, fields=("ticket", "phone"))
            registration = status_lookup(
                request, ticket=request.POST.get("ticket", ""), phone=request.POST.get("phone", "")
            )
            context.update(_status_context(registration))
        except ServiceError as exc:
            context["errors"], status = error_messages(exc), exc.status_code
    return render(request, "allocation/status.html", context, status=status)


@require_http_methods(["GET"])
def status_link_page(request: HttpRequest, token: str) -> HttpResponse:
    """The status page from the resident's signed personal link (no ticket, no phone).

    A token that is not genuine is a 404; after the personal data purge the page says
    only that it is no longer available (also 404).
    """
    claims = status_token_read(token)
    registration = None
    if claims is not None:
        registration = (
            Registration.objects.select_related("round", "committee__pharmacy")
            .filter(pk=claims[0], ticket=claims[1])
            .first()
        )
    if registration is None:
        raise Http404
    if registration.personal_data_purged_at is not None:
        return render(request, "allocation/status_gone.html", status=404)
    return render(request, "allocation/status.html", _status_context(registration))


def _status_context(registration: Registration) -> dict[str, Any]:
    """The one state (``selectors.registration_status_dict``) and the voucher's QR code."""
    info = selectors.registration_status_dict(registration)
    context: dict[str, Any] = {
        "registration": registration,
        "ticket": ticket_display(registration.ticket),
        "info": info,
        "state": info["state"],
    }
    if info["state"]["state"] == "voucher":
        voucher = selectors.registration_voucher(registration)
        if voucher is not None and voucher.fulfilment == Voucher.Fulfilment.PICKUP:
            svg = selectors.voucher_qr_svg(voucher, scale=5, border=2)
            context["voucher_qr"] = mark_safe(svg)  # noqa: S308 - segno, from our token
    return context
