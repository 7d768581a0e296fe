"""Committee staff's emergency delivery page (``committees/<code>/emergency/``).

Shows the committee's emergency stock today (set aside, delivered, left), the round's
emergency deliveries, and the form that records one (``emergency.emergency_deliver``):
the household by building and room, the resident, why they could not register and who
received the packs. Round managers also see the form that sets the stock per day.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.permissions import may_manage_round
from fairshare.accounts.requests import StaffRequest
from fairshare.allocation.emergency import (
    REASONS,
    emergency_deliver,
    emergency_deliveries,
    emergency_stock,
    emergency_stock_set,
)
from fairshare.allocation.models import SupplyDay
from fairshare.allocation.shortfall_pages import _chosen_round, _rounds
from fairshare.allocation.views import _committee
from fairshare.community.models import Committee, Household
from fairshare.core.errors import FieldErrors, ServiceError, error_messages
from fairshare.core.forms import posted_text_check
from fairshare.rounds.models import Round

FIELDS = ("round", "action", "building", "room", "name", "phone", "reason", "received_by", "packs")


def _household(committee: Committee, building: str, room: str) -> Household:
    household = Household.objects.filter(
        building__committee=committee, building__label=building.strip(), room=room.strip()
    ).first()
    if household is None:
        raise FieldErrors({"room": [_("No such household in this committee.")]})
    return household


def _post(request: StaffRequest, committee: Committee, round_: Round) -> str:
    posted_text_check(request.POST, fields=FIELDS)
    data = request.POST
    if data.get("action") == "stock":
        raw = data.get("packs", "").strip()
        packs = emergency_stock_set(
            round=round_,
            committee_id=committee.pk,
            packs=int(raw) if raw.isdigit() else raw,  # type: ignore[arg-type]
            actor=request.user,
        )
        return str(_("Emergency stock set to %(n)s packs per day.") % {"n": packs})
    voucher = emergency_deliver(
        round=round_,
        household=_household(committee, data.get("building", ""), data.get("room", "")),
        name=data.get("name", ""),
        phone=data.get("phone", ""),
        reason=data.get("reason", ""),
        received_by=data.get("received_by", ""),
        actor=request.user,
    )
    return str(
        _("Emergency delivery recorded: queue number %(n)s.")
        % {"n": voucher.registration.queue_number}
    )


@login_required
def emergency_page(request: StaffRequest, code: str) -> HttpResponse:
    committee = _committee(request, code)
    round_ = _chosen_round(request, _rounds(committee))
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST" and round_ is not None:
        try:
            done = _post(request, committee, round_)
        except ServiceError as exc:
            errors, status = error_messages(exc), exc.status_code
        else:
            messages.success(request, done)
            return redirect(f"{request.path}?round={round_.pk}")
    day = SupplyDay.objects.filter(
        pharmacy_id=committee.pharmacy_id, date=timezone.localdate()
    ).first()
    context: dict[str, Any] = {
        "committee": committee,
        "rounds": _rounds(committee),
        "round": round_,
        "errors": errors,
        "values": request.POST,
        "reasons": list(REASONS.items()),
        "stock": emergency_stock(round=round_, committee_id=committee.pk, day=day)
        if round_
        else None,
        "deliveries": emergency_deliveries(round=round_, committee_ids=[committee.pk])
        if round_
        else [],
        "may_set_stock": round_ is not None and may_manage_round(request.user, round_),
    }
    return render(request, "allocation/emergency.html", context, status=status)
