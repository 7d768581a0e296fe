"""Staff page: every building's stairwell poster of a committee, and "print all" as one
A4 PDF (one page per building), each with the QR code to the entry page (building
preselected), the committee's desk phone and desk hours.

Committee staff see their own committee only (others: 404, as for the desk); the single
poster page (``views.poster``) stays public, it shows nothing that is not on the wall.
"""

from __future__ import annotations

import io

import segno
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from fairshare.accounts.permissions import has_access
from fairshare.accounts.scoping import scoped
from fairshare.community.models import Building, Committee
from fairshare.registration.staff_views import desk_staff
from fairshare.rounds.models import Round
from fairshare.rounds.selectors import rounds_covering_q

FONT = "STSong-Light"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _committee_and_round(request: HttpRequest, round_id: int, code: str) -> tuple[Committee, Round]:
    committee = (
        scoped(Committee.objects.select_related("subdistrict"), request.user, "")
        .filter(code=code)
        .first()
    )
    if committee is None or not has_access(request.user):
        raise Http404
    covering = rounds_covering_q(
        subdistrict_id=committee.subdistrict_id, district_id=committee.subdistrict.district_id
    )
    return committee, get_object_or_404(Round.objects.filter(covering), pk=round_id)


def _buildings(committee: Committee) -> list[Building]:
    return list(Building.objects.filter(committee=committee).order_by("sort_order", "label"))


def _entry_url(request: HttpRequest, round_obj: Round, committee: Committee, pk: int) -> str:
    path = reverse("registration:entry", args=[round_obj.pk, committee.code])
    return request.build_absolute_uri(f"{path}?building={pk}")


@desk_staff
def posters_page(request: HttpRequest, round_id: int, committee_code: str) -> HttpResponse:
    """The committee's buildings, each with its poster link, and the one-PDF "print all"."""
    committee, round_obj = _committee_and_round(request, round_id, committee_code)
    return render(
        request,
        "registration/posters.html",
        {"committee": committee, "round": round_obj, "buildings": _buildings(committee)},
    )


def _draw_qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    matrix = [list(row) for row in segno.make(data, error="m").matrix]
    cell = size / (len(matrix) + 4)
    c.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        for col, dark in enumerate(row):
            if dark:
                c.rect(x + (col + 2) * cell, y + size - (r + 3) * cell, cell, cell, 0, 1)


def _centred(c: Canvas, text: str, y: float, size: float) -> None:
    c.setFont(_font(), size)
    c.drawCentredString(A4[0] / 2, y, text)


def _poster_page(
    c: Canvas, *, committee: Committee, round_obj: Round, building: Building, url: str
) -> None:
    width, height = A4
    _centred(c, _("Register for masks here"), height - 35 * mm, 30)
    _centred(c, f"{committee.name} · {building.compound}{building.label}", height - 50 * mm, 20)
    _centred(c, round_obj.name, height - 60 * mm, 16)
    size = 120 * mm
    _draw_qr(c, url, (width - size) / 2, height - 65 * mm - size, size)
    y = height - 200 * mm
    _centred(
        c,
        _("Scan with your phone. One registration per household; first come, first served."),
        y,
        14,
    )
    opens = f"{round_obj.registration_opens_at:%Y-%m-%d %H:%M}"
    closes = f"{round_obj.registration_closes_at:%Y-%m-%d %H:%M}"
    _centred(
        c,
        _("Open from %(opens)s until %(closes)s.") % {"opens": opens, "closes": closes},
        y - 10 * mm,
        14,
    )
    _centred(
        c, _("No smartphone? Come to the committee desk or call the committee."), y - 22 * mm, 16
    )
    if committee.phone:
        _centred(c, _("Committee phone: %(phone)s") % {"phone": committee.phone}, y - 34 * mm, 22)
    if committee.desk_hours:
        _centred(c, _("Desk hours: %(hours)s") % {"hours": committee.desk_hours}, y - 45 * mm, 16)
    if committee.address:
        _centred(c, committee.address, y - 54 * mm, 14)
    _centred(c, url, 15 * mm, 12)


@desk_staff
def posters_pdf(request: HttpRequest, round_id: int, committee_code: str) -> HttpResponse:
    """All the committee's building posters as one A4 PDF, one page per building."""
    committee, round_obj = _committee_and_round(request, round_id, committee_code)
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4)
    c.setTitle(f"{committee.name} · {round_obj.name}")
    for building in _buildings(committee):
        url = _entry_url(request, round_obj, committee, building.pk)
        _poster_page(c, committee=committee, round_obj=round_obj, building=building, url=url)
        c.showPage()
    c.save()
    response = HttpResponse(buffer.getvalue(), content_type="application/pdf")
    name = f"posters-{round_obj.pk}-{committee.code}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response
