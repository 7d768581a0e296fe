"""Reads of the staff review queue: its counts, its filters and its rows (scoped).

Everything starts from ``selectors.staff_registrations`` (the user's committees only).
The filters narrow the committee (one of the user's), the building, the channel, the
status and whether the name is on the household's roster (``lookup.roster_match``,
the rule registration itself applies); the counts follow the same committee, building
and channel filters, whatever the status filter.

Statuses: ``pending`` (waiting for review), ``approved`` (approved by staff),
``rejected`` (made void by staff: rejected, or voided for a reason such as a wrong
address) and ``superseded`` (void because the household's own roster-matching
registration arrived, ``registration/supersede.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.permissions import Viewer
from fairshare.accounts.scoping import scoped
from fairshare.community.models import Building, Committee
from fairshare.core.forms import parse_id
from fairshare.registration.holds import VoucherHold, live_voucher_holds
from fairshare.registration.ledger import SUPERSEDED
from fairshare.registration.lookup import ROSTER_ATTR, roster_match
from fairshare.registration.models import Channel, Registration
from fairshare.registration.selectors import staff_registrations

ROWS_SHOWN = 200
ROWS_SCANNED = 2000  # the name filter is applied in Python on at most this many rows

STATUSES = {
    "pending": _("pending review"),
    "approved": _("approved"),
    "rejected": _("rejected or voided by staff"),
    "superseded": _("superseded by the household's own registration"),
}
MATCHES = {"yes": _("name in the roster"), "no": _("name not in the roster")}


def _status_q(status: str) -> Q:
    void = Q(status=Registration.Status.VOID)
    return {
        "pending": Q(status=Registration.Status.PENDING_REVIEW),
        "approved": Q(status=Registration.Status.VERIFIED, reviewed_by__isnull=False),
        "rejected": void & Q(reviewed_by__isnull=False) & ~Q(void_reason=SUPERSEDED),
        "superseded": void & Q(void_reason=SUPERSEDED),
    }[status]


@dataclass(frozen=True)
class ReviewFilters:
    committee: Committee | None = None
    building: Building | None = None
    channel: str = ""
    status: str = "pending"
    match: str = ""  # "yes", "no" or "" (either)

    def query(self) -> dict[str, str]:
        """The filters as a query string's values (for links that keep them)."""
        values = {
            "committee": self.committee.code if self.committee else "",
            "building": str(self.building.pk) if self.building else "",
            "channel": self.channel,
            "status": self.status,
            "match": self.match,
        }
        return {k: v for k, v in values.items() if v}


def review_committees(*, user: Viewer) -> QuerySet[Committee]:
    return scoped(Committee.objects.all(), user, "").order_by("code")


def review_filters(*, user: Viewer, data: Mapping[str, Any]) -> ReviewFilters:
    """The filters of a query string; an unknown or foreign value is no filter."""
    committees = review_committees(user=user)
    committee = committees.filter(code=str(data.get("committee", ""))).first()
    building = None
    building_id = parse_id(data.get("building"))
    if building_id is not None:
        buildings = Building.objects.filter(committee__in=committees)
        if committee is not None:
            buildings = buildings.filter(committee=committee)
        building = buildings.filter(pk=building_id).first()
    channel = str(data.get("channel", ""))
    status = str(data.get("status", "pending"))
    match = str(data.get("match", ""))
    return ReviewFilters(
        committee=committee,
        building=building,
        channel=channel if channel in Channel.values else "",
        status=status if status in STATUSES else "pending",
        match=match if match in MATCHES else "",
    )


def _narrowed(user: Viewer, filters: ReviewFilters) -> QuerySet[Registration]:
    qs = staff_registrations(user=user)
    if filters.committee is not None:
        qs = qs.filter(committee=filters.committee)
    if filters.building is not None:
        qs = qs.filter(household__building=filters.building)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    return qs


def review_counts(*, user: Viewer, filters: ReviewFilters) -> dict[str, int]:
    """pending, approved_today (local day), rejected, superseded: one query."""
    today = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    return _narrowed(user, filters).aggregate(
        pending=Count("pk", filter=_status_q("pending")),
        approved_today=Count("pk", filter=_status_q("approved") & Q(reviewed_at__gte=today)),
        rejected=Count("pk", filter=_status_q("rejected")),
        superseded=Count("pk", filter=_status_q("superseded")),
    )


@dataclass(frozen=True)
class ReviewRow:
    registration: Registration
    roster_names: list[str]
    roster_match: bool
    voucher: VoucherHold | None


def review_rows(*, user: Viewer, filters: ReviewFilters) -> list[ReviewRow]:
    """The rows of the queue (at most ``ROWS_SHOWN``), oldest place first for pending
    ones, newest first otherwise; each with its roster names, whether the name is among
    them, and its household's live voucher of the round, if any."""
    qs = _narrowed(user, filters).filter(_status_q(filters.status))
    order: list[Any] = ["round", "committee", "queue_number"]
    if filters.status != "pending":  # the latest decisions first (superseded: no reviewer)
        order = [F("reviewed_at").desc(nulls_last=True), "-round", "committee", "-queue_number"]
    registrations = list(
        qs.select_related("photo")
        .prefetch_related("household__members")
        .order_by(*order)[:ROWS_SCANNED]
    )
    rows = []
    for registration in registrations:
        names = [m.name for m in registration.household.members.all()]
        setattr(registration.household, ROSTER_ATTR, names)
        matched = roster_match(registration.household, registration.name)
        if filters.match and matched != (filters.match == "yes"):
            continue
        rows.append(ReviewRow(registration, names, matched, None))
        if len(rows) == ROWS_SHOWN:
            break
    holds = live_voucher_holds(
        {(r.registration.round_id, r.registration.household_id) for r in rows}
    )
    return [
        ReviewRow(
            r.registration,
            r.roster_names,
            r.roster_match,
            holds.get((r.registration.round_id, r.registration.household_id)),
        )
        for r in rows
    ]
