"""Staff pages: a committee's vouchers of a day and their printable slips (scoped)."""

from __future__ import annotations

from datetime import date as Date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from fairshare.allocation import selectors
from fairshare.allocation.slips import slips_pdf
from fairshare.core.errors import Forbidden, NotFound

PAGE_LIMIT = 500


def _day(request: HttpRequest) -> Date:
    try:
        return Date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.localdate()


def _committee(request: HttpRequest, code: str):
    try:
        return selectors.committee_for_staff(user=request.user, code=code)
    except (Forbidden, NotFound):
        raise Http404 from None  # do not reveal committees outside the user's area


@login_required
def committee_vouchers(request: HttpRequest, code: str) -> HttpResponse:
    committee = _committee(request, code)
    day = _day(request)
    vouchers = selectors.committee_vouchers(committee=committee, date=day)
    return render(
        request,
        "allocation/committee_vouchers.html",
        {
            "committee": committee,
            "day": day,
            "vouchers": vouchers[:PAGE_LIMIT],
            "total": vouchers.count(),
            "limit": PAGE_LIMIT,
        },
    )


@login_required
def committee_slips(request: HttpRequest, code: str) -> HttpResponse:
    committee = _committee(request, code)
    day = _day(request)
    pdf = slips_pdf(
        committee=committee,
        vouchers=list(selectors.committee_vouchers(committee=committee, date=day)),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="vouchers-{code}-{day}.pdf"'
    return response
