"""Staff pages of a supply shortfall and of the committee's notify-by-hand list.

* ``supply/shortfall/``: whoever may declare a pharmacy's supply (its staff, the staff
  of its subdistrict or district) lowers a confirmed day below what was issued. The
  first POST shows the confirmation step (how many vouchers it cancels, nothing
  written); the second, carrying that number, does it (``shortfall.supply_shortfall_as``).
* ``committees/<code>/by-hand/`` (and ``by-hand.csv``): the households of a committee
  to tell in person (``by_hand``), with a "told" checkbox per item; committee staff and
  the staff of its subdistrict or district only.
"""

from __future__ import annotations

import csv
import io
from datetime import date as Date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.requests import StaffRequest
from fairshare.allocation.by_hand import hand_list, hand_notice_told
from fairshare.allocation.shortfall import ShortfallPlan, shortfall_preview, supply_shortfall_as
from fairshare.allocation.views import _committee, supply_pharmacy_chosen
from fairshare.community.models import Committee
from fairshare.core.errors import FieldErrors, ServiceError, error_messages
from fairshare.core.forms import once_per_form, posted_text_check
from fairshare.core.spreadsheet import csv_row
from fairshare.rounds.models import Round
from fairshare.rounds.selectors import rounds_covering_q


def _shortfall_values(request: StaffRequest) -> tuple[Date, int | str, int | None]:
    posted_text_check(request.POST, fields=("date", "packs", "confirm"))
    errors = FieldErrors()
    try:
        day = Date.fromisoformat(request.POST.get("date", "").strip())
    except ValueError:
        day = timezone.localdate()
        errors.add("date", _("Enter a date like 2020-02-03."))
    raw = request.POST.get("packs", "").strip()
    confirm = request.POST.get("confirm", "").strip()
    if errors:
        raise errors
    return day, int(raw) if raw.isdigit() else raw, int(confirm) if confirm.isdigit() else None


@login_required
@once_per_form
def shortfall_page(request: StaffRequest) -> HttpResponse:
    """Lower a confirmed day: the form, the confirmation step, then the shortfall."""
    pharmacies, pharmacy = supply_pharmacy_chosen(request)
    values = {"date": timezone.localdate().isoformat(), "packs": ""}
    errors: dict[str, list[str]] = {}
    status, plan = 200, None
    if request.method == "POST":
        values = {key: request.POST.get(key, "").strip() for key in values}
        try:
            day, packs, confirm = _shortfall_values(request)
            if confirm is None:
                plan = shortfall_preview(
                    actor=request.user, pharmacy=pharmacy, date=day, packs=packs
                )
            else:
                result = supply_shortfall_as(
                    actor=request.user, pharmacy=pharmacy, date=day, packs=packs, confirm=confirm
                )
                messages.success(request, _done_message(result.plan, result.sms, day))
                return redirect(f"{reverse('allocation:supply')}?pharmacy={pharmacy.code}")
        except ServiceError as exc:
            errors, status = error_messages(exc), exc.status_code
    context = {
        "pharmacies": pharmacies,
        "pharmacy": pharmacy,
        "values": values,
        "errors": errors,
        "plan": plan,
    }
    return render(request, "allocation/shortfall.html", context, status=status)


def _done_message(plan: ShortfallPlan, sms: int, day: Date) -> str:
    return str(
        _(
            "The supply of %(date)s is now %(packs)s packs; %(n)s vouchers were cancelled, "
            "%(sms)s households were sent an SMS, the others are on their committee's "
            "notify-by-hand list."
        )
        % {"date": day.isoformat(), "packs": plan.packs, "n": len(plan.cancel), "sms": sms}
    )


def _rounds(committee: Committee) -> list[Round]:
    return list(
        Round.objects.filter(
            rounds_covering_q(
                subdistrict_id=committee.subdistrict_id,
                district_id=committee.subdistrict.district_id,
            ),
            status__in=[Round.Status.OPEN, Round.Status.CLOSED],
        ).order_by("-registration_opens_at", "-id")
    )


def _chosen_round(request: StaffRequest, rounds: list[Round]) -> Round | None:
    wanted = request.POST.get("round") or request.GET.get("round") or ""
    return next((r for r in rounds if str(r.pk) == wanted), rounds[0] if rounds else None)


@login_required
@once_per_form
def by_hand_page(request: StaffRequest, code: str) -> HttpResponse:
    """The committee's notify-by-hand list; POST marks the ticked items as told."""
    committee = _committee(request, code)
    rounds = _rounds(committee)
    round_ = _chosen_round(request, rounds)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST" and round_ is not None:
        try:
            posted_text_check(request.POST, fields=("round",))
            marked = hand_notice_told(
                actor=request.user,
                committee=committee,
                round=round_,
                keys=request.POST.getlist("told"),
            )
        except ServiceError as exc:
            errors, status = error_messages(exc), exc.status_code
        else:
            messages.success(request, _("%(n)s marked as told.") % {"n": marked})
            return redirect(f"{request.path}?round={round_.pk}")
    items = hand_list(committee=committee, round=round_) if round_ is not None else []
    context: dict[str, Any] = {
        "committee": committee,
        "rounds": rounds,
        "round": round_,
        "items": items,
        "untold": sum(1 for i in items if i.told_at is None),
        "errors": errors,
    }
    return render(request, "allocation/by_hand.html", context, status=status)


@login_required
def by_hand_csv(request: StaffRequest, code: str) -> HttpResponse:
    committee = _committee(request, code)
    round_ = _chosen_round(request, _rounds(committee))
    items = hand_list(committee=committee, round=round_) if round_ is not None else []
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    headers = [_("Queue number"), _("Name"), _("Address"), _("Why"), _("What to tell")]
    writer.writerow(csv_row([*headers, _("Told at"), _("Told by")]))
    for item in items:
        told = timezone.localtime(item.told_at).strftime("%Y-%m-%d %H:%M") if item.told_at else ""
        row = [item.queue_number, item.name, item.address, item.kind_label, item.message]
        writer.writerow(csv_row([*row, told, item.told_by]))
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="by-hand-{committee.code}.csv"'
    return response
