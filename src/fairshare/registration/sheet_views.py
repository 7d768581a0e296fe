"""Building sheet pages (``registration/sheets.py``): print, list (out / entered), enter.

Committee staff only, scoped like the desk (``staff_views.desk_staff``).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from fairshare.accounts.requests import StaffRequest
from fairshare.community.models import Building
from fairshare.core.errors import ServiceError, error_messages
from fairshare.core.forms import parse_id, posted_text_check
from fairshare.core.locking import Busy
from fairshare.registration.models import BuildingSheet
from fairshare.registration.sheet_pdf import sheet_pdf
from fairshare.registration.sheets import SheetLine, SheetRejected, sheet_enter, sheet_issue
from fairshare.registration.staff_views import _round_for, _scoped_committee, desk_staff

FIELDS = ("room", "name", "phone", "time")


@desk_staff
def sheets(request: StaffRequest, round_id: int, committee_code: str) -> HttpResponse:
    """Every building with its sheets: print a new one, see which are out and entered."""
    committee = _scoped_committee(request.user, committee_code)
    round_obj = _round_for(committee, round_id)
    if request.method == "POST":
        building = get_object_or_404(
            Building, pk=parse_id(request.POST.get("building")), committee=committee
        )
        sheet = sheet_issue(round=round_obj, building=building, actor=request.user)
        return redirect("registration:sheet_pdf", code=sheet.code)
    issued = BuildingSheet.objects.filter(round=round_obj, committee=committee).order_by(
        "issued_at"
    )
    by_building: dict[int, list[BuildingSheet]] = {}
    for sheet in issued:
        by_building.setdefault(sheet.building_id, []).append(sheet)
    buildings = [
        {"building": b, "sheets": by_building.get(b.pk, [])}
        for b in Building.objects.filter(committee=committee).order_by("sort_order", "label")
    ]
    context = {
        "round": round_obj,
        "committee": committee,
        "buildings": buildings,
        "out": [s for s in issued if s.entered_at is None],
    }
    return render(request, "registration/sheets.html", context)


def _sheet(request: StaffRequest, code: str) -> BuildingSheet:
    sheet = (
        BuildingSheet.objects.select_related("round", "committee__subdistrict", "building")
        .filter(code=code)
        .first()
    )
    if sheet is None:
        raise Http404
    _scoped_committee(request.user, sheet.committee.code)
    return sheet


@desk_staff
def sheet_file(request: StaffRequest, code: str) -> HttpResponse:
    sheet = _sheet(request, code)
    response = HttpResponse(sheet_pdf(sheet), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="sheet-{sheet.code}.pdf"'
    return response


def _posted_lines(post: Any, count: int) -> list[SheetLine]:
    return [
        SheetLine(**{f: str(post.get(f"{f}_{n}", "")) for f in FIELDS}) for n in range(1, count + 1)
    ]


@desk_staff
def sheet_entry(request: StaffRequest, code: str) -> HttpResponse:
    """The collected sheet typed whole, line by line as written; all or nothing."""
    sheet = _sheet(request, code)
    lines = _posted_lines(request.POST, sheet.lines) if request.method == "POST" else []
    line_errors: dict[int, dict[str, list[str]]] = {}
    errors: dict[str, list[str]] = {}
    results: list[tuple[int, Any]] = []
    status = 200
    if request.method == "POST" and sheet.entered_at is None:
        try:
            posted_text_check(
                request.POST,
                fields=tuple(f"{f}_{n}" for f in FIELDS for n in range(1, sheet.lines + 1)),
            )
            results = sheet_enter(sheet=sheet, lines=lines, actor=request.user)
        except SheetRejected as exc:
            line_errors, errors, status = exc.lines, {"general": [str(exc.message)]}, 422
        except ServiceError as exc:
            errors, status = error_messages(exc), exc.status_code
        except Busy as exc:
            errors, status = {"general": [str(exc.message)]}, 503
    rows = [
        {"n": n, "line": lines[n - 1] if lines else None, "errors": line_errors.get(n, {})}
        for n in range(1, sheet.lines + 1)
    ]
    context = {
        "sheet": sheet,
        "rows": rows,
        "errors": errors,
        "results": [(n, r.registration) for n, r in results],
        "back": reverse("registration:sheets", args=[sheet.round_id, sheet.committee.code]),
    }
    return render(request, "registration/sheet_entry.html", context, status=status)
